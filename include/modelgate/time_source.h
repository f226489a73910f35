// TimeSource: the daemon's one view of monotonic time. It answers Now() and
// creates Timers, so everything that waits (deadlines, batching delay,
// breaker re-checks, respawn backoff, worker kill graces) waits on the same
// clock it reads, and tests can replace both at once (modelled on Envoy's
// TimeSystem / SimulatedTimeSystem).
//
// Production: AsioTimeSource (src/common/asio_time_source.h); the few direct
// steady_clock readers left are listed there. Tests: SimulatedTimeSource
// (tests/support/simulated_time_source.h), where time moves only when the
// test advances it and advancing runs every timer that falls due, in order.
//
// Threading: a TimeSource and its Timers belong to one io thread. Now() may
// be called from any thread for AsioTimeSource; CreateTimer and every Timer
// method only on the owner's thread. Timer callbacks run on that thread,
// from the io_context, never from inside Enable/EnableAt/Disable.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

namespace modelgate {

using SteadyTime = std::chrono::steady_clock::time_point;

// A one-shot timer. Enabling an enabled timer re-arms it (the earlier expiry
// is forgotten). The callback never runs after Disable() or after the Timer
// is destroyed, so it may capture its owner's `this`; a callback may destroy
// or re-enable its own Timer.
class Timer {
 public:
  virtual ~Timer() = default;
  // Fires after `delay` (zero or negative: on the io_context's next turn).
  virtual void Enable(std::chrono::nanoseconds delay) = 0;
  // Fires at `when` (in the past: on the io_context's next turn).
  virtual void EnableAt(SteadyTime when) = 0;
  virtual void Disable() = 0;
  // Armed and not yet fired.
  virtual bool enabled() const = 0;
};
using TimerPtr = std::unique_ptr<Timer>;

class TimeSource {
 public:
  virtual ~TimeSource() = default;
  virtual SteadyTime Now() const = 0;
  // The source must outlive its timers.
  virtual TimerPtr CreateTimer(std::function<void()> callback) = 0;
};

}  // namespace modelgate
