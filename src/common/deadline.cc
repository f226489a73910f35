#include "common/deadline.h"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace modelgate {

namespace {

template <typename Duration>
SteadyTime AddClamped(SteadyTime now, Duration d) {
  constexpr Duration kMax = std::chrono::duration_cast<Duration>(kMaxClientTimeout);
  d = std::clamp(d, -kMax, kMax);
  return now + std::chrono::duration_cast<SteadyTime::duration>(d);
}

}  // namespace

SteadyTime DeadlineAfter(SteadyTime now, std::chrono::microseconds timeout) {
  return AddClamped(now, timeout);
}

SteadyTime SteadyDeadline(std::chrono::system_clock::time_point deadline,
                          std::chrono::system_clock::time_point system_now, SteadyTime steady_now) {
  using Rep = std::chrono::system_clock::duration::rep;
  Rep remaining;
  if (__builtin_sub_overflow(deadline.time_since_epoch().count(),
                             system_now.time_since_epoch().count(), &remaining)) {
    remaining =
        deadline > system_now ? std::numeric_limits<Rep>::max() : std::numeric_limits<Rep>::min();
  }
  return AddClamped(steady_now, std::chrono::system_clock::duration(remaining));
}

}  // namespace modelgate
