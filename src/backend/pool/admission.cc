#include "backend/pool/admission.h"

#include "common/retry_after.h"

namespace modelgate {

Admission::Admission(const ModelConfig& config, std::string label, const TimeSource& time)
    : config_(config), label_(std::move(label)), breaker_(config.circuit_breaker, time) {
  if (config.rate_limit_rps > 0)
    rate_limit_.emplace(config.rate_limit_rps, config.rate_limit_burst, time);
}

void Admission::Stop(std::string why) {
  stopping_ = true;
  stopped_why_ = std::move(why);
}

Admission::Verdict Admission::Admit(const Query& q) {
  if (stopping_) {
    return {RejectReason::kStopping,
            Unavailable(label_ + " is " + stopped_why_).WithRetryAfter(kRetryAfterSeconds)};
  }
  if (!q.any_alive && !q.load_error.empty()) {
    return {
        RejectReason::kLoadError,
        Unavailable(label_ + " is not ready: " + q.load_error).WithRetryAfter(kRetryAfterSeconds)};
  }
  if (q.deadline && *q.deadline <= q.now) {
    return {RejectReason::kDeadline,
            Status(StatusCode::kDeadlineExceeded, "request " + std::string(q.request_id) + " to " +
                                                      label_ + ": deadline already passed")};
  }
  if (!breaker_.TryAcquire()) {
    const int after = RetryAfterSeconds(breaker_.RemainingOpen());
    return {RejectReason::kBreakerOpen,
            Unavailable("circuit breaker of " + label_ +
                        " is open after repeated backend failures; retry in " +
                        std::to_string(after) + " s")
                .WithRetryAfter(after)};
  }
  if (rate_limit_ && !rate_limit_->TryTake()) {
    return Busy("rate limit of " + std::to_string(config_.rate_limit_rps) + " requests/s exceeded",
                RejectReason::kRateLimited);
  }
  if (static_cast<int64_t>(q.queued) >= static_cast<int64_t>(config_.max_queue_size) &&
      !q.runs_at_once) {
    return Busy(
        "queue is full (" + std::to_string(config_.max_queue_size) + " waiting); retry later",
        RejectReason::kQueueFull);
  }
  return {};
}

Admission::Verdict Admission::Busy(const std::string& why, RejectReason reason) {
  breaker_.Release();  // the breaker admitted it; it never reaches the backend
  return {reason, Status(StatusCode::kResourceExhausted, label_ + ": " + why)
                      .WithRetryAfter(kRetryAfterSeconds)};
}

}  // namespace modelgate
