// Admission: whether a model version takes a new request, decided once at
// submit time by Admit(), in this order:
//   stopping (shutting down or unloaded)          -> kStopping   503
//   no live worker and a load error               -> kLoadError  503 naming it
//   deadline already passed                       -> kDeadline   504
//   circuit breaker open                          -> kBreakerOpen 503 + Retry-After
//   rate limit (token bucket) empty               -> kRateLimited 429 + Retry-After
//   queue at max_queue_size (unless it runs now)  -> kQueueFull  429 + Retry-After
// An admitted request holds one breaker permit, which the pool ends exactly
// once (OnSuccess / OnFailure / Release). A rejection holds none: Admit
// gives back a permit it took before rejecting (rate limit, queue bound).
//
// Owns the stop state, the circuit breaker and the token bucket; the caller
// supplies what only the pool knows (live workers, load error, queue length).
// Threading: io thread only.
#pragma once

#include <optional>
#include <string>

#include "modelgate/model_config.h"
#include "modelgate/reject_reason.h"
#include "modelgate/status.h"
#include "modelgate/time_source.h"
#include "resilience/circuit_breaker.h"
#include "resilience/token_bucket.h"

namespace modelgate {

class Admission {
 public:
  // `label` names the model version in messages ("model 'm' version 1").
  Admission(const ModelConfig& config, std::string label, const TimeSource& time);

  struct Query {
    SteadyTime now{};
    std::string_view request_id;
    std::optional<SteadyTime> deadline;
    bool any_alive = false;  // a worker is ready or busy
    std::string load_error;  // why the model cannot serve, if known
    size_t queued = 0;
    bool runs_at_once = false;  // an idle worker would take it without queueing
  };
  struct Verdict {
    std::optional<RejectReason> reject;  // empty: admitted
    Status status;                       // the answer when rejected
    bool admitted() const { return !reject; }
  };
  Verdict Admit(const Query& query);

  // Until Resume(), every request is rejected with 503 "<label> is <why>".
  void Stop(std::string why);
  void Resume() { stopping_ = false; }
  bool stopping() const { return stopping_; }

  CircuitBreaker& breaker() { return breaker_; }

 private:
  Verdict Busy(const std::string& why, RejectReason reason);

  const ModelConfig& config_;
  const std::string label_;
  CircuitBreaker breaker_;
  std::optional<TokenBucket> rate_limit_;
  bool stopping_ = false;
  std::string stopped_why_;
};

}  // namespace modelgate
