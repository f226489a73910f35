// ModelPool: the warm workers of one model version, its bounded FIFO queue,
// and the model's resilience: deadlines, circuit breaker, rate limit,
// recycling and supervised restarts.
//
// Admission (Submit), in order: shutting down or unloaded -> 503; no live
// worker and a load error -> 503 naming it; deadline already passed -> 504;
// breaker open -> 503 + Retry-After; rate limited -> 429 + Retry-After; queue
// full -> 429 + Retry-After. Admitted requests wait FIFO for an idle worker; a
// queued request whose deadline passes is answered 504 without running. A
// running one is answered 504 at its own deadline (a batch's members each at
// theirs: one member's short deadline never fails another). Once every
// member of the call has been answered, its worker has
// `deadline_kill_grace_ms` to return by itself: if it does, its late answer is
// dropped and it stays (no restart, no breaker failure); if not, it is killed
// (SIGTERM, SIGKILL after Worker::kKillGrace) and replaced once reaped. A
// member with no deadline waits for the worker's answer, so its call is never
// killed. The slot stays taken, and queued requests wait for it, until then.
// Dead workers are replaced with exponential backoff and jitter (at once
// after a timeout kill or a recycle).
//
// Breaker accounting: each admitted request holds one permit, ended exactly
// once (SettleBreaker) by the worker's typed CallOutcome. Failures are only
// the backend's: a worker that died on its own mid-request, a protocol
// violation, a worker killed after the grace for overrunning a deadline the
// client did not shorten (PoolRequest::client_shortened_deadline). A client's
// bad input, a model-raised error, a client's own short deadline (whether the
// worker returned in the grace or had to be killed) and the pool's own
// rejections never count.
//
// Every request gets exactly one answer through its `done`, on the io thread,
// never from inside Submit.
//
// Threading: everything runs on the io thread except ready() and load_error(),
// which any thread may read.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <unordered_map>

#include "modelgate/clock.h"
#include "modelgate/model_config.h"
#include "modelgate/worker.h"
#include "resilience/circuit_breaker.h"
#include "resilience/token_bucket.h"
#include "scheduler/deadline_queue.h"

namespace modelgate {

struct PoolRequest {
  std::vector<Tensor> inputs;
  std::string request_id;
  std::optional<SteadyTime> deadline;
  // The deadline is the client's own and earlier than the model's configured
  // one: a worker killed for overrunning it is restarted, but that says
  // nothing about the backend's health (no breaker failure), or any client
  // could open the breaker with valid, slow requests and tiny deadlines.
  bool client_shortened_deadline = false;
  InferDone done;
};

// What the pool reports to metrics; every callback runs on the io thread.
struct PoolEvents {
  std::function<void(std::string_view reason)> rejected;  // queue_full, breaker_open, ...
  std::function<void(DeathCause cause)> worker_restarted;
  std::function<void()> changed;  // readiness
  // A worker call started with `batch` requests.
  std::function<void(size_t batch)> dispatched;
  // A request's worker call ended: time queued, time computing.
  std::function<void(double queue_seconds, double compute_seconds)> completed;
};

class ModelPool : public Worker::Listener {
 public:
  using WorkerFactory = std::function<std::shared_ptr<Worker>(Worker::Listener*)>;

  ModelPool(boost::asio::io_context& io, const ModelConfig& config, int64_t version,
            WorkerFactory factory, const Clock& clock = SystemClock::Get());
  ~ModelPool() override;

  void Start();
  // Answers every queued request with 503 "<label> is <why>" and stops the
  // workers (EOF, SIGTERM after `grace`, SIGKILL after 2x). Until Resume(),
  // new requests get the same 503.
  void Stop(std::chrono::milliseconds grace, const std::string& why);
  void Resume();

  // Returns a ticket for Cancel.
  uint64_t Submit(PoolRequest request);
  // A request still queued is answered CANCELLED and leaves the queue; one
  // already running finishes (its answer is then dropped by the caller).
  void Cancel(uint64_t ticket);

  bool ready() const { return ready_.load(std::memory_order_acquire); }
  std::string load_error() const;
  int64_t version() const { return version_; }
  const ModelConfig& config() const { return config_; }
  size_t queue_depth() const { return queue_.size(); }
  size_t worker_count() const { return workers_.size(); }
  size_t running() const { return running_.size(); }
  // Workers per state (index: WorkerState).
  std::array<int, 5> WorkerStates() const;
  CircuitBreaker::State breaker_state() { return breaker_.state(); }
  // Resident bytes summed over the live workers.
  int64_t WorkerRssBytes() const;
  // Pids of the live workers (starting, ready or busy), in spawn order.
  std::vector<int> WorkerPids() const;
  void set_events(PoolEvents events) { events_ = std::move(events); }

  // Worker::Listener
  void OnWorkerReady(Worker& worker) override;
  void OnWorkerDead(Worker& worker, const Status& why, DeathCause cause) override;

 private:
  struct Call {
    uint64_t ticket = 0;
    PoolRequest request;
    SteadyTime admitted{};
    SteadyTime started{};
    int64_t rows = 0;  // dim 0 of the inputs, kept for splitting a batch
    bool answered = false;
    bool breaker_settled = false;  // its breaker permit ended (SettleBreaker)
    // Shared by the requests of one worker call: first the deadline, then
    // the kill grace after it.
    std::shared_ptr<boost::asio::steady_timer> deadline_timer;
  };
  using CallPtr = std::shared_ptr<Call>;
  // The requests of one worker call: one, or several when batching.
  using Batch = std::vector<CallPtr>;

  void SpawnWorker();
  void ScheduleRespawn(std::chrono::milliseconds delay);
  std::chrono::milliseconds BackoffDelay();
  void Dispatch();
  // With batching on: the requests at the queue's head that can go now in
  // one call, or an empty batch when it is worth waiting for more.
  Batch NextBatch();
  void Run(std::shared_ptr<Batch> batch, const std::shared_ptr<Worker>& worker);
  void OnBatchFinished(const std::shared_ptr<Batch>& batch, const std::shared_ptr<Worker>& worker,
                       StatusOr<std::vector<Tensor>> result, CallOutcome outcome);
  void Finish(const CallPtr& call, StatusOr<std::vector<Tensor>> result, CallOutcome outcome);
  // Ends the call's breaker permit exactly once, by what the outcome says.
  void SettleBreaker(const CallPtr& call, CallOutcome outcome);
  // Answers 504 the members whose deadline is `due` or earlier; waits for the
  // next member's deadline, or, when all are answered, starts the worker's
  // grace to return by itself.
  void OnRunningDeadline(const std::shared_ptr<Batch>& batch, const std::weak_ptr<Worker>& worker,
                         SteadyTime due);
  // The grace is over and the worker is still on the call: kill it.
  void OnKillGraceOver(const std::shared_ptr<Batch>& batch, const std::weak_ptr<Worker>& worker);
  void ExpireQueued();
  void ArmExpiry();
  void Answer(const CallPtr& call, StatusOr<std::vector<Tensor>> result);
  void Reject(const CallPtr& call, Status status, std::string_view reason);
  // 429 + Retry-After for a request the breaker admitted (queue full, rate limit).
  void RejectBusy(const CallPtr& call, const std::string& why, std::string_view reason);
  void MaybeRecycle(const std::shared_ptr<Worker>& worker);
  bool AnyAlive() const;
  // Would a request submitted now go to a worker without queueing?
  bool RunsAtOnce() const;
  void UpdateReady();
  void FailQueued(const Status& why);
  std::string Label() const;
  std::string CallLabel(const CallPtr& call) const;

  boost::asio::io_context& io_;
  const ModelConfig& config_;
  const int64_t version_;
  WorkerFactory factory_;
  const Clock& clock_;
  PoolEvents events_;

  std::vector<std::shared_ptr<Worker>> workers_;
  DeadlineQueue<CallPtr> queue_;
  std::unordered_map<uint64_t, CallPtr> running_;
  uint64_t next_ticket_ = 1;
  boost::asio::steady_timer expiry_timer_;
  boost::asio::steady_timer breaker_timer_;
  boost::asio::steady_timer batch_timer_;  // ends a batch's wait for more requests
  std::vector<std::unique_ptr<boost::asio::steady_timer>> respawn_timers_;
  CircuitBreaker breaker_;
  std::optional<TokenBucket> rate_limit_;
  int consecutive_failures_ = 0;
  bool stopping_ = false;
  std::string stopped_why_;
  std::minstd_rand rng_{std::random_device{}()};

  std::atomic<bool> ready_{false};
  mutable std::mutex error_mu_;
  std::string load_error_;  // guarded by error_mu_: why the model cannot serve
};

}  // namespace modelgate
