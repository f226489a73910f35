// ModelPool: one model version served by warm workers. It composes
//   Admission     (admission.h)      who gets in, and the typed reject reason
//   PoolScheduler (pool_scheduler.h) the FIFO, batching, queued deadlines
//   Supervisor    (supervisor.h)     spawn, backoff, recycle, readiness
// and itself runs the worker calls: their deadlines, kill graces and the
// breaker accounting.
//
// A running request is answered 504 at its own deadline (a batch's members
// each at theirs: one member's short deadline never fails another). Once
// every member of the call has been answered, its worker has
// `deadline_kill_grace_ms` to return by itself: if it does, its late answer
// is dropped and it stays (no restart, no breaker failure); if not, it is
// killed (SIGTERM, SIGKILL after Worker::kKillGrace) and replaced once
// reaped. A worker that can be interrupted (Worker::Interrupt: the native
// host) is asked to stop the call when that grace starts, and the grace is
// `interrupt_grace_ms` instead (PoolEvents::worker_interrupted, one log
// line each). A member with no deadline waits for the worker's answer, so its
// call is never killed. The slot stays taken, and queued requests wait for
// it, until then.
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
// never from inside Submit. All waiting is on the injected TimeSource.
//
// Lifecycle (model_pool_lifecycle.cc): Start, Stop/Resume (shutdown and the
// old unload), NotifyWhenLoaded (a load waits for the workers and their
// warm-up) and Drain (the pool was replaced or unloaded). A drained pool may
// be destroyed once `drained` has run (from a later handler, not from inside
// it): nothing it posted or armed refers to it after that.
//
// Threading: everything runs on the io thread except ready() and load_error(),
// which any thread may read.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "backend/pool/admission.h"
#include "backend/pool/pool_call.h"
#include "backend/pool/pool_scheduler.h"
#include "backend/pool/supervisor.h"
#include "modelgate/model_config.h"
#include "modelgate/time_source.h"
#include "modelgate/worker.h"

namespace modelgate {

class ModelPool {
 public:
  using WorkerFactory = Supervisor::WorkerFactory;

  // `time` must outlive the pool.
  ModelPool(boost::asio::io_context& io, const ModelConfig& config, int64_t version,
            WorkerFactory factory, TimeSource& time);
  ~ModelPool();

  void Start();
  // Answers every queued request with 503 "<label> is <why>" and stops the
  // workers (EOF, SIGTERM after `grace`, SIGKILL after 2x). Until Resume(),
  // new requests get the same 503.
  void Stop(std::chrono::milliseconds grace, const std::string& why);
  void Resume();

  // Calls `done` once, on the io thread: OK once all config.workers workers
  // said Hello and answered every warm-up request (config.warmup); else the
  // first start or warm-up failure (the model's own message), after which
  // the pool respawns nothing (a load discards it). At once if already so.
  // Never from inside the call; several waiters may wait. Only a pool whose
  // load is awaited stops respawning at its first start failure: one nobody
  // waits on keeps retrying with backoff (the daemon's start). A pool
  // stopped, draining or destroyed before it loaded answers UNAVAILABLE.
  void NotifyWhenLoaded(std::function<void(Status)> done);
  // The pool was replaced or unloaded: it keeps serving what it was given and
  // what still arrives while it has workers; once nothing is queued or
  // running, its workers get EOF (SIGTERM after `grace`, SIGKILL after 2x),
  // and `drained` runs once every worker is reaped. A Submit after that is
  // answered 503 (the core re-routes instead: see accepting()).
  // Nothing new is spawned or replaced; workers still starting or warming
  // up are stopped at once. If no worker serves any more (none had loaded,
  // or the last one died), queued requests are answered 503 "<label> is
  // no longer served (replaced or unloaded)" with Retry-After at once, and
  // so are new ones. `drained` is posted (several Drain calls: each runs).
  // Resume() does not undo a drain.
  void Drain(std::chrono::milliseconds grace, std::function<void()> drained);
  // A Submit now would be served: not stopped, and not past the point where
  // a drain stopped its workers (nor draining with no worker serving).
  bool accepting() const;
  // Why a drained pool refuses requests ("<label> is <this>").
  static constexpr std::string_view kDrainedWhy = "no longer served (replaced or unloaded)";

  // Returns a ticket for Cancel.
  uint64_t Submit(PoolRequest request);
  // A request still queued is answered CANCELLED and leaves the queue; one
  // already running finishes (its answer is then dropped by the caller).
  void Cancel(uint64_t ticket);

  bool ready() const { return supervisor_.ready(); }
  std::string load_error() const { return supervisor_.load_error(); }
  int64_t version() const { return version_; }
  const ModelConfig& config() const { return config_; }
  size_t queue_depth() const { return scheduler_.size(); }
  size_t worker_count() const { return supervisor_.workers().size(); }
  size_t running() const { return running_.size(); }
  // Workers per state (index: WorkerState).
  std::array<int, kWorkerStateCount> WorkerStates() const { return supervisor_.WorkerStates(); }
  // Pids of the live workers, in slot order.
  std::vector<int> WorkerPids() const { return supervisor_.WorkerPids(); }
  CircuitBreaker::State breaker_state() { return admission_.breaker().state(); }
  // Resident bytes summed over the live workers.
  int64_t WorkerRssBytes() const { return supervisor_.WorkerRssBytes(); }
  void set_events(PoolEvents events) { events_ = std::move(events); }

 private:
  // One worker call in flight. Owned by the worker's `done` callback, so it
  // lives until the worker answers; its timer (first the earliest member
  // deadline, then the kill grace) dies with it.
  struct RunningBatch {
    Batch calls;
    std::weak_ptr<Worker> worker;
    TimerPtr timer;
    SteadyTime due{};          // the deadline the timer waits for
    bool in_grace = false;     // every member answered; waiting for the worker
    bool interrupted = false;  // the worker was asked to stop the call (interrupt_grace_ms)
  };

  void Dispatch();
  void Run(Batch batch, const std::shared_ptr<Worker>& worker);
  void OnBatchFinished(const std::shared_ptr<RunningBatch>& run,
                       const std::shared_ptr<Worker>& worker, StatusOr<std::vector<Tensor>> result,
                       CallOutcome outcome);
  void Finish(const CallPtr& call, StatusOr<std::vector<Tensor>> result, CallOutcome outcome);
  // Ends the call's breaker permit exactly once, by what the outcome says.
  void SettleBreaker(const CallPtr& call, CallOutcome outcome);
  // The batch timer fired: a member deadline or the end of the kill grace.
  void OnRunTimer(RunningBatch& run);
  // Answers 504 the members whose deadline is `due` or earlier; waits for the
  // next member's deadline, or, when all are answered, starts the worker's
  // grace to return by itself.
  void OnRunningDeadline(RunningBatch& run);
  // The grace is over and the worker is still on the call: kill it.
  void OnKillGraceOver(RunningBatch& run);
  void OnQueuedExpired(const CallPtr& call);
  void OnWorkerDied();
  void Answer(const CallPtr& call, StatusOr<std::vector<Tensor>> result);
  // Posted answer (Submit and Dispatch never answer directly).
  void Reject(const CallPtr& call, Status status, RejectReason reason);
  // Would a request submitted now go to a worker without queueing?
  bool RunsAtOnce() const;
  void FailQueued(const Status& why);
  std::string CallLabel(const CallPtr& call) const;
  // A draining pool: fail what no worker can serve, stop the workers once
  // idle, post `drained` once they are gone.
  void MaybeFinishDrain();
  void SettleLoad(const Status& outcome);
  // Runs `f` from a fresh handler unless the pool is gone by then.
  void PostGuarded(std::function<void()> f);

  boost::asio::io_context& io_;
  const ModelConfig& config_;
  const int64_t version_;
  const std::string label_;  // "model 'm' version 1"
  TimeSource& time_;
  PoolEvents events_;
  Admission admission_;
  PoolScheduler scheduler_;
  Supervisor supervisor_;
  std::unordered_map<uint64_t, CallPtr> running_;
  uint64_t next_ticket_ = 1;

  std::vector<std::function<void(Status)>> load_waiters_;
  bool draining_ = false;
  bool drain_stopped_ = false;  // the drain stopped the workers
  std::chrono::milliseconds drain_grace_{0};
  std::vector<std::function<void()>> drained_;
  // Posted handlers hold a weak copy: the pool may be gone when they run.
  std::shared_ptr<ModelPool*> self_ = std::make_shared<ModelPool*>(this);
};

}  // namespace modelgate
