// The frame loop of modelgate-worker (see proto/worker.proto): loads the
// model through a Runtime, sends one Hello (or a load Error with id 0), then
// answers every Infer with one Result or Error and every Ping with a Pong,
// until Shutdown or EOF on the input fd.
//
// Interrupts: the daemon sends SIGINT with sigqueue(), the request's id in
// si_value. The handler forwards it to the Runtime only when that id is the
// request running now, so a late signal never stops the next request.
#pragma once

#include <cstdint>

#include "runtime.h"

namespace modelgate::worker_host {

// Returns the process exit status: 0 after Shutdown/EOF, 1 when the model
// did not load, 2 on a protocol error (malformed frame, broken pipe).
int Serve(Runtime& runtime, const HostOptions& options, int fd_in = 3, int fd_out = 4);

}  // namespace modelgate::worker_host
