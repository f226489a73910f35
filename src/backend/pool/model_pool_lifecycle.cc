// ModelPool's lifecycle: start, stop and resume, the load's outcome, and the
// drain of a replaced or unloaded version (contracts in model_pool.h).
#include <boost/asio/post.hpp>

#include "backend/pool/model_pool.h"
#include "common/retry_after.h"
#include "modelgate/log_event.h"

namespace modelgate {

namespace asio = boost::asio;
using std::chrono::milliseconds;

void ModelPool::Start() { supervisor_.Start(); }

void ModelPool::OnWorkerDied() {
  // Nothing alive to take queued requests and a load error to show: fail them
  // now instead of waiting on a respawn that may never succeed.
  if (!supervisor_.AnyAlive() && !load_error().empty()) {
    FailQueued(Unavailable(label_ + " is not ready: " + load_error()));
  }
}

void ModelPool::FailQueued(const Status& why) {
  for (auto& call : scheduler_.TakeAll()) {
    admission_.breaker().Release();
    Status s = why;
    Answer(call, s.WithRetryAfter(kRetryAfterSeconds));
  }
}

void ModelPool::Stop(milliseconds grace, const std::string& why) {
  admission_.Stop(why);
  FailQueued(Unavailable(label_ + " is " + why));
  supervisor_.Stop(grace, why);
  supervisor_.UpdateReady();
  if (!supervisor_.loaded()) SettleLoad(Unavailable(label_ + " is " + why));
  MaybeFinishDrain();
}

void ModelPool::Resume() {
  if (draining_) return;  // a replaced or unloaded pool stays so
  if (admission_.stopping()) admission_.Resume();
  supervisor_.Resume();
}

bool ModelPool::accepting() const {
  if (admission_.stopping() || drain_stopped_) return false;
  return !draining_ || supervisor_.AnyAlive();
}

// ---- the load's outcome ---------------------------------------------------

void ModelPool::NotifyWhenLoaded(std::function<void(Status)> done) {
  std::optional<Status> known;
  if (supervisor_.loaded()) {
    known = Status::Ok();
  } else if (draining_) {
    known = Unavailable(label_ + " is " + std::string(kDrainedWhy));
  } else if (admission_.stopping()) {
    known = Unavailable(label_ + " did not load: " + load_error());
  } else {
    known = supervisor_.AwaitLoad();
  }
  if (!known) {
    load_waiters_.push_back(std::move(done));
    return;
  }
  asio::post(io_, [done = std::move(done), status = std::move(*known)] { done(status); });
}

void ModelPool::SettleLoad(const Status& outcome) {
  for (auto& done : load_waiters_) {
    asio::post(io_, [done = std::move(done), outcome] { done(outcome); });
  }
  load_waiters_.clear();
}

// ---- drain ------------------------------------------------------------------

void ModelPool::Drain(milliseconds grace, std::function<void()> drained) {
  drained_.push_back(std::move(drained));
  if (!draining_) {
    draining_ = true;
    drain_grace_ = grace;
    LogInfo("model_draining", {{"model", config_.name},
                               {"version", std::to_string(version_)},
                               {"queued", scheduler_.size()},
                               {"running", running_.size()},
                               {"workers", worker_count()}});
    supervisor_.Drain(grace);
    supervisor_.UpdateReady();
    if (!supervisor_.loaded()) SettleLoad(Unavailable(label_ + " is " + std::string(kDrainedWhy)));
  }
  MaybeFinishDrain();
}

void ModelPool::MaybeFinishDrain() {
  if (!draining_) return;
  if (!drain_stopped_) {
    // No worker serves and none will be started: nothing queued can run.
    if (!supervisor_.AnyAlive())
      FailQueued(Unavailable(label_ + " is " + std::string(kDrainedWhy)));
    if (!scheduler_.empty() || !running_.empty()) return;
    drain_stopped_ = true;
    if (!admission_.stopping()) admission_.Stop(std::string(kDrainedWhy));
    supervisor_.Stop(drain_grace_, std::string(kDrainedWhy));
    supervisor_.UpdateReady();
  }
  if (worker_count() > 0 || drained_.empty()) return;
  LogInfo("model_drained", {{"model", config_.name}, {"version", std::to_string(version_)}});
  for (auto& drained : drained_) asio::post(io_, std::move(drained));
  drained_.clear();
}

}  // namespace modelgate
