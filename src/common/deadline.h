// Client deadlines (V2 "timeout" parameter, gRPC deadline) turned into
// steady-clock time points without overflow: an enormous timeout means "no
// client deadline" (the model's cap still applies), never a wrap into the
// past. Pure functions; thread-safe.
#pragma once

#include <chrono>

#include "modelgate/time_source.h"

namespace modelgate {

// Timeouts are clamped to this; longer is indistinguishable from none, and
// now + kMaxClientTimeout cannot overflow a steady_clock time point.
inline constexpr std::chrono::hours kMaxClientTimeout{24 * 365};

// now + timeout, timeout clamped to [-kMaxClientTimeout, kMaxClientTimeout].
SteadyTime DeadlineAfter(SteadyTime now, std::chrono::microseconds timeout);

// The steady-clock time of a system-clock deadline (gRPC's), measured from
// the pair (system_now, steady_now) with the same clamping.
SteadyTime SteadyDeadline(std::chrono::system_clock::time_point deadline,
                          std::chrono::system_clock::time_point system_now, SteadyTime steady_now);

}  // namespace modelgate
