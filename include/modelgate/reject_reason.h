// Why a request was answered without reaching a worker: the `reason` label
// of modelgate_rejected_requests_total. One enum, one label table, so a
// reason cannot be counted under a misspelt label (or not at all).
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace modelgate {

enum class RejectReason {
  kQueueFull,    // the model's queue bound (429)
  kBreakerOpen,  // the circuit breaker is open (503)
  kRateLimited,  // the model's token bucket is empty (429)
  kDeadline,     // the deadline passed before the request ran (504)
  kStopping,     // shutting down or unloaded (503)
  kLoadError,    // no live worker and the model failed to load (503)
  kServerBusy,   // the daemon-wide in-flight bound (429)
};
inline constexpr size_t kRejectReasonCount = static_cast<size_t>(RejectReason::kServerBusy) + 1;

// The metric label (kept from the string labels used before the enum).
constexpr std::string_view RejectReasonLabel(RejectReason reason) {
  constexpr std::array<std::string_view, kRejectReasonCount> kLabels = {
      "queue_full",    "breaker_open", "rate_limited", "deadline",
      "shutting_down", "not_ready",    "server_busy"};
  return kLabels[static_cast<size_t>(reason)];
}

}  // namespace modelgate
