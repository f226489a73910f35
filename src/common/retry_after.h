// Retry-After: how long a client should wait before retrying a 429 or 503,
// in whole seconds. Every reject that carries one takes it from here.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>

namespace modelgate {

// For rejects that clear on their own soon (queue full, rate limit, server
// busy, shutting down, not ready): retry in a second.
inline constexpr int kRetryAfterSeconds = 1;

// For a reject that lasts `remaining` (an open circuit breaker): the whole
// seconds until it has passed, rounded up, never less than kRetryAfterSeconds.
inline int RetryAfterSeconds(std::chrono::milliseconds remaining) {
  using std::chrono::seconds;
  const int64_t s = std::chrono::ceil<seconds>(remaining).count();
  return static_cast<int>(
      std::clamp<int64_t>(s, kRetryAfterSeconds, std::numeric_limits<int>::max()));
}

}  // namespace modelgate
