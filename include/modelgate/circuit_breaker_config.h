// The circuit breaker's settings: a value type of the model config
// ("circuit_breaker" in config.json), used by resilience/circuit_breaker.h.
#pragma once

#include <chrono>

namespace modelgate {

struct CircuitBreakerConfig {
  enum class Window { kCount, kTime };
  bool enabled = true;
  Window window = Window::kCount;
  int window_size = 20;  // calls (count window) or seconds (time window)
  int minimum_calls = 10;
  double failure_rate_threshold = 50;  // percent
  std::chrono::milliseconds open_duration{30000};
  int half_open_calls = 3;
};

}  // namespace modelgate
