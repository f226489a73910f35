#include "frontend/http/accept_backoff.h"

#include <algorithm>

namespace modelgate {

AcceptBackoff::Step AcceptBackoff::OnFailure(Clock::time_point now) {
  Step step;
  step.delay = next_delay_;
  next_delay_ = std::min(next_delay_ * 2, kMaxDelay);
  if (!last_log_ || now - *last_log_ >= kLogInterval) {
    step.log = true;
    step.suppressed = suppressed_;
    suppressed_ = 0;
    last_log_ = now;
  } else {
    ++suppressed_;
  }
  return step;
}

}  // namespace modelgate
