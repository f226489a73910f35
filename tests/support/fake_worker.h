// A scripted Worker for unit tests of the pool: the test decides when it is
// ready, what each request answers and when it dies.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <optional>

#include "modelgate/worker.h"

namespace modelgate::testing {

class FakeWorker : public Worker, public std::enable_shared_from_this<FakeWorker> {
 public:
  FakeWorker(boost::asio::io_context& io, Listener* listener, int pid)
      : io_(io), listener_(listener), pid_(pid) {}

  // Says Hello on the next turn of the io_context, unless `auto_hello` is
  // off: then the test calls Hello().
  void Start() override {
    if (!auto_hello) return;
    boost::asio::post(io_, [self = shared_from_this()] { self->Hello(); });
  }
  void Hello() {
    if (state_ != WorkerState::kStarting) return;
    state_ = WorkerState::kReady;
    listener_->OnWorkerReady(*this);
  }
  WorkerState state() const override { return state_; }
  int pid() const override { return pid_; }
  uint64_t requests_served() const override { return served_; }
  int64_t RssBytes() const override { return rss_; }

  void Infer(std::vector<Tensor> inputs, const Parameters& parameters, std::string request_id,
             WorkerDone done) override {
    state_ = WorkerState::kBusy;
    last_inputs = std::move(inputs);
    last_parameters = parameters;
    last_request_id = std::move(request_id);
    done_ = std::move(done);
  }

  // Answers the request in flight and becomes ready again.
  void Complete(StatusOr<std::vector<Tensor>> result, CallOutcome outcome = CallOutcome::kOk) {
    WorkerDone done = std::move(done_);
    done_ = nullptr;
    ++served_;
    state_ = WorkerState::kReady;
    done(std::move(result), outcome);
    if (state_ == WorkerState::kReady) listener_->OnWorkerReady(*this);
  }

  // Counts the interrupts of a busy worker when `interruptible` (the native
  // host); the test answers the call (Complete) or lets it hang.
  bool Interrupt() override {
    if (!interruptible || state_ != WorkerState::kBusy) return false;
    ++interrupts;
    return true;
  }
  void Kill(Status why, DeathCause cause) override { Die(std::move(why), cause); }
  void Stop(std::chrono::milliseconds, DeathCause cause) override {
    Die(Unavailable("stopped"), cause);
  }

  // Ends the process as ProcessWorker would: a request in flight is answered
  // with `why` and the outcome that `cause` implies.
  void Die(Status why, DeathCause cause) {
    if (state_ == WorkerState::kDying || state_ == WorkerState::kDead) return;
    state_ = WorkerState::kDying;
    killed_with = cause;
    boost::asio::post(io_, [self = shared_from_this(), why, cause] {
      self->state_ = WorkerState::kDead;
      if (self->done_) {
        WorkerDone done = std::move(self->done_);
        self->done_ = nullptr;
        const CallOutcome outcome = cause == DeathCause::kMalformed ? CallOutcome::kProtocolError
                                    : cause == DeathCause::kCrash   ? CallOutcome::kWorkerDied
                                                                    : CallOutcome::kAbandoned;
        done(why, outcome);
      }
      self->listener_->OnWorkerDead(*self, why, cause);
    });
  }

  bool busy() const { return state_ == WorkerState::kBusy; }
  bool auto_hello = true;
  bool interruptible = false;
  int interrupts = 0;

  std::vector<Tensor> last_inputs;
  Parameters last_parameters;
  std::string last_request_id;
  std::optional<DeathCause> killed_with;
  int64_t rss_ = 1 << 20;
  // What signature() reports (a ProcessWorker's merged Hello signature).
  std::shared_ptr<const ModelSignature> reported_signature;
  std::shared_ptr<const ModelSignature> signature() const override {
    return state_ == WorkerState::kStarting ? nullptr : reported_signature;
  }

 private:
  boost::asio::io_context& io_;
  Listener* listener_;
  int pid_;
  WorkerState state_ = WorkerState::kStarting;
  uint64_t served_ = 0;
  WorkerDone done_;
};

}  // namespace modelgate::testing
