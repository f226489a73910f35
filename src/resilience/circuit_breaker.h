// CircuitBreaker with resilience4j semantics: a count- or time-based sliding
// window of call outcomes; once at least `minimum_calls` are in the window and
// the failure rate reaches the threshold it opens; after `open_duration` it
// lets `half_open_calls` probe calls through; all succeed -> closed, any fails
// -> open again.
//
// The caller records only backend failures (a worker that died mid-request, a
// protocol violation, a worker killed after its deadline grace); never a
// client's bad input, a model-raised error, a client's own short deadline nor
// the gateway's own rejections (see ModelPool). Not thread-safe: one breaker
// per model, used on the io thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <string_view>

#include "modelgate/circuit_breaker_config.h"
#include "modelgate/time_source.h"

namespace modelgate {

class CircuitBreaker {
 public:
  enum class State { kClosed = 0, kOpen = 1, kHalfOpen = 2 };

  CircuitBreaker(CircuitBreakerConfig config, const TimeSource& clock);

  // May a call go to the backend now? In half-open, each true hands out one of
  // the probe permits; a permitted call must end in exactly one of
  // OnSuccess / OnFailure / Release.
  bool TryAcquire();
  void OnSuccess();
  void OnFailure();
  // A permitted call that never reached the backend (e.g. rejected later).
  void Release();

  // Current state; an open breaker whose open time is over reads half-open.
  State state();
  // Time until an open breaker lets probes through (0 unless open).
  std::chrono::milliseconds RemainingOpen();
  double FailureRate() const;  // percent over the current window

 private:
  void Record(bool failure);
  void Trim();
  void Transition(State to);

  CircuitBreakerConfig config_;
  const TimeSource& clock_;
  State state_ = State::kClosed;
  SteadyTime opened_at_{};
  int half_open_permits_ = 0;
  int half_open_successes_ = 0;
  struct Outcome {
    SteadyTime at;
    bool failure;
  };
  std::deque<Outcome> window_;
  int failures_ = 0;
};

std::string_view CircuitBreakerStateName(CircuitBreaker::State state);

}  // namespace modelgate
