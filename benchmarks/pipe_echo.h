// A bare pipe echo: a child process that sends back every length-prefixed
// frame it reads, on the same descriptors a worker uses (fd 3 in, fd 4 out),
// spawned the same way (Spawn). Timing a frame through it, the same way as a
// worker round trip, gives the floor of the hop itself (two pipe writes, two
// wake-ups, the frame encode and decode), with no interpreter behind it.
// Given a busy time, the child spins that long before each answer, as a
// model computes: on a VM, a CPU left idle for a few hundred microseconds
// can cost far more to wake than one idle for 20 (benchmarks/README.md),
// so a model's hop is also compared with an echo that kept the other side
// waiting as long.
#pragma once

#include <boost/asio/io_context.hpp>
#include <string>
#include <vector>

#include "modelgate/status.h"
#include "modelgate/tensor.h"

namespace modelgate::bench {

// The child's side: echoes frames from fd 3 to fd 4 until EOF, each after
// spinning `busy_us` microseconds. Returns the process exit code.
int RunPipeEchoChild(double busy_us = 0);

// Spawns `self_exe --echo-child BUSY_US` and times `n` round trips of the Infer frame
// the process layer would send for `inputs` (built, encoded, written, read
// back and decoded each time), driven by `io` as a worker is. Microseconds
// per round trip, or an error naming what failed.
StatusOr<std::vector<double>> TimePipeEcho(boost::asio::io_context& io, const std::string& self_exe,
                                           const std::vector<Tensor>& inputs, int n,
                                           double busy_us = 0);

}  // namespace modelgate::bench
