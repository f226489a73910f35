#include "resilience/circuit_breaker.h"

namespace modelgate {

std::string_view CircuitBreakerStateName(CircuitBreaker::State state) {
  switch (state) {
    case CircuitBreaker::State::kClosed:
      return "closed";
    case CircuitBreaker::State::kOpen:
      return "open";
    case CircuitBreaker::State::kHalfOpen:
      return "half_open";
  }
  return "unknown";
}

CircuitBreaker::CircuitBreaker(CircuitBreakerConfig config, const TimeSource& clock)
    : config_(config), clock_(clock) {}

CircuitBreaker::State CircuitBreaker::state() {
  if (state_ == State::kOpen && clock_.Now() - opened_at_ >= config_.open_duration) {
    Transition(State::kHalfOpen);
  }
  return state_;
}

std::chrono::milliseconds CircuitBreaker::RemainingOpen() {
  if (state() != State::kOpen) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(config_.open_duration -
                                                               (clock_.Now() - opened_at_));
}

bool CircuitBreaker::TryAcquire() {
  if (!config_.enabled) return true;
  switch (state()) {
    case State::kClosed:
      return true;
    case State::kOpen:
      return false;
    case State::kHalfOpen:
      if (half_open_permits_ == 0) return false;
      --half_open_permits_;
      return true;
  }
  return false;
}

void CircuitBreaker::Release() {
  if (config_.enabled && state_ == State::kHalfOpen) ++half_open_permits_;
}

void CircuitBreaker::OnSuccess() {
  if (!config_.enabled) return;
  if (state_ == State::kHalfOpen) {
    if (++half_open_successes_ >= config_.half_open_calls) Transition(State::kClosed);
    return;
  }
  if (state_ == State::kClosed) Record(false);
}

void CircuitBreaker::OnFailure() {
  if (!config_.enabled) return;
  if (state_ == State::kHalfOpen) {
    Transition(State::kOpen);
    return;
  }
  if (state_ == State::kClosed) Record(true);
}

void CircuitBreaker::Record(bool failure) {
  window_.push_back({clock_.Now(), failure});
  failures_ += failure;
  Trim();
  if (static_cast<int>(window_.size()) >= config_.minimum_calls &&
      FailureRate() >= config_.failure_rate_threshold) {
    Transition(State::kOpen);
  }
}

void CircuitBreaker::Trim() {
  auto drop = [&] {
    failures_ -= window_.front().failure;
    window_.pop_front();
  };
  if (config_.window == CircuitBreakerConfig::Window::kCount) {
    while (static_cast<int>(window_.size()) > config_.window_size) drop();
  } else {
    const auto horizon = clock_.Now() - std::chrono::seconds(config_.window_size);
    while (!window_.empty() && window_.front().at <= horizon) drop();
  }
}

double CircuitBreaker::FailureRate() const {
  return window_.empty() ? 0.0 : 100.0 * failures_ / static_cast<double>(window_.size());
}

void CircuitBreaker::Transition(State to) {
  state_ = to;
  window_.clear();
  failures_ = 0;
  if (to == State::kOpen) opened_at_ = clock_.Now();
  if (to == State::kHalfOpen) {
    half_open_permits_ = config_.half_open_calls;
    half_open_successes_ = 0;
  }
}

}  // namespace modelgate
