// An injectable monotonic clock, so breaker, rate-limit and deadline logic can
// be tested by advancing time instead of sleeping.
#pragma once

#include <chrono>

namespace modelgate {

using SteadyTime = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual SteadyTime Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  SteadyTime Now() const override { return std::chrono::steady_clock::now(); }
  static const SystemClock& Get() {
    static const SystemClock clock;
    return clock;
  }
};

// For tests: time moves only when Advance() is called.
class FakeClock final : public Clock {
 public:
  SteadyTime Now() const override { return now_; }
  void Advance(std::chrono::nanoseconds d) { now_ += d; }

 private:
  SteadyTime now_ = SteadyTime() + std::chrono::hours(1);
};

}  // namespace modelgate
