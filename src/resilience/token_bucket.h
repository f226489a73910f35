// A token bucket: `rate` tokens per second, holding at most `burst`.
// Not thread-safe (one per model, io thread).
#pragma once

#include <algorithm>

#include "modelgate/time_source.h"

namespace modelgate {

class TokenBucket {
 public:
  TokenBucket(double rate_per_second, double burst, const TimeSource& clock)
      : rate_(rate_per_second), burst_(burst), tokens_(burst), last_(clock.Now()), clock_(clock) {}

  bool TryTake() {
    const SteadyTime now = clock_.Now();
    tokens_ =
        std::min(burst_, tokens_ + std::chrono::duration<double>(now - last_).count() * rate_);
    last_ = now;
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

 private:
  double rate_;
  double burst_;
  double tokens_;
  SteadyTime last_;
  const TimeSource& clock_;
};

}  // namespace modelgate
