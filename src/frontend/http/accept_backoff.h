// AcceptBackoff: what an accept loop does after accept() fails (EMFILE,
// ENFILE, ENOBUFS, ...). Retrying at once would spin: the pending connection
// stays in the backlog, so the listener stays readable and every retry fails
// the same way. Instead the loop waits, from kFirstDelay doubling to kMaxDelay
// (a success starts over), and logs at most one line per kLogInterval that
// counts the failures it did not log.
//
// Threading: one thread (the server's io thread). Time is passed in.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace modelgate {

class AcceptBackoff {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kFirstDelay{50};
  static constexpr std::chrono::milliseconds kMaxDelay{1000};
  static constexpr std::chrono::seconds kLogInterval{10};
  static_assert(kFirstDelay <= kMaxDelay);

  struct Step {
    std::chrono::milliseconds delay;  // wait this long before accepting again
    bool log = false;                 // write one log line now
    uint64_t suppressed = 0;          // failures not logged since the last line
  };

  Step OnFailure(Clock::time_point now);
  void OnSuccess() { next_delay_ = kFirstDelay; }

 private:
  std::chrono::milliseconds next_delay_ = kFirstDelay;
  std::optional<Clock::time_point> last_log_;
  uint64_t suppressed_ = 0;
};

}  // namespace modelgate
