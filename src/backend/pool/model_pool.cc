#include "backend/pool/model_pool.h"

#include <algorithm>
#include <boost/asio/post.hpp>

#include "common/retry_after.h"
#include "modelgate/log_event.h"
#include "scheduler/batching.h"

namespace modelgate {

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

int64_t Ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration_cast<milliseconds>(d).count();
}

std::string PoolLabel(const ModelConfig& config, int64_t version) {
  return "model '" + config.name + "' version " + std::to_string(version);
}

}  // namespace

std::string BatchRequestIds(const Batch& batch) {
  std::string ids;
  const size_t named = std::min(batch.size(), kMaxBatchIdsNamed);
  for (size_t i = 0; i < named; ++i) {
    if (i > 0) ids += ' ';
    ids += batch[i]->request.request_id;
  }
  if (batch.size() > named) ids += " (+" + std::to_string(batch.size() - named) + " more)";
  return ids;
}

ModelPool::ModelPool(asio::io_context& io, const ModelConfig& config, int64_t version,
                     WorkerFactory factory, TimeSource& time)
    : io_(io),
      config_(config),
      version_(version),
      label_(PoolLabel(config, version)),
      time_(time),
      admission_(config, label_, time),
      scheduler_(config, time,
                 {.expired = [this](const CallPtr& call) { OnQueuedExpired(call); },
                  .batch_due = [this] { Dispatch(); }}),
      supervisor_(io, config, version, std::move(factory), time, admission_.breaker(), events_,
                  {.worker_ready =
                       [this] {
                         // From a fresh handler: the worker may be inside its own callback.
                         PostGuarded([this] { Dispatch(); });
                       },
                   .worker_died = [this] { OnWorkerDied(); },
                   .worker_gone = [this] { MaybeFinishDrain(); },
                   .load_settled = [this](const Status& outcome) { SettleLoad(outcome); }}) {}

ModelPool::~ModelPool() {
  // A load still waiting hears that it never will.
  SettleLoad(Unavailable(label_ + " was discarded before it loaded"));
}

void ModelPool::PostGuarded(std::function<void()> f) {
  asio::post(io_, [self = std::weak_ptr<ModelPool*>(self_), f = std::move(f)] {
    if (self.lock()) f();
  });
}

std::string ModelPool::CallLabel(const CallPtr& call) const {
  return "request " + call->request.request_id + " to " + label_;
}

bool ModelPool::RunsAtOnce() const {
  // Without batching an idle worker takes the next request immediately; with
  // batching requests may wait beside an idle worker, so the queue bound holds.
  return config_.max_batch_size == 0 && scheduler_.empty() && supervisor_.AnyIdle();
}

// ---- admission ----------------------------------------------------------

uint64_t ModelPool::Submit(PoolRequest request) {
  auto call = std::make_shared<Call>();
  call->ticket = next_ticket_++;
  call->request = std::move(request);
  call->admitted = time_.Now();
  call->rows = BatchRows(call->request.inputs);
  const bool alive = supervisor_.AnyAlive();
  if (draining_ && !alive && !admission_.stopping()) {
    // Replaced or unloaded, and no worker is left to serve it.
    Reject(
        call,
        Unavailable(label_ + " is " + std::string(kDrainedWhy)).WithRetryAfter(kRetryAfterSeconds),
        RejectReason::kStopping);
    return call->ticket;
  }
  Admission::Verdict verdict = admission_.Admit({.now = call->admitted,
                                                 .request_id = call->request.request_id,
                                                 .deadline = call->request.deadline,
                                                 .any_alive = alive,
                                                 .load_error = alive ? "" : load_error(),
                                                 .queued = scheduler_.size(),
                                                 .runs_at_once = RunsAtOnce()});
  if (!verdict.admitted()) {
    Reject(call, std::move(verdict.status), *verdict.reject);
  } else {
    scheduler_.Push(call);
    Dispatch();
  }
  return call->ticket;
}

void ModelPool::Reject(const CallPtr& call, Status status, RejectReason reason) {
  call->answered = true;
  if (events_.rejected) events_.rejected(reason);
  asio::post(io_, [call, status = std::move(status)] { call->request.done(status); });
}

void ModelPool::Cancel(uint64_t ticket) {
  auto call = scheduler_.Remove(ticket);
  if (!call) return;
  admission_.breaker().Release();
  Answer(*call, Status(StatusCode::kCancelled, CallLabel(*call) + " was cancelled by the client"));
  MaybeFinishDrain();
}

void ModelPool::Answer(const CallPtr& call, StatusOr<std::vector<Tensor>> result) {
  if (call->answered) return;
  call->answered = true;
  // Every "retry later" answer says when (a worker died, the model is gone).
  if (!result.ok() && result.status().code() == StatusCode::kUnavailable &&
      !result.status().retry_after_seconds()) {
    Status s = result.status();
    call->request.done(s.WithRetryAfter(kRetryAfterSeconds));
    return;
  }
  call->request.done(std::move(result));
}

void ModelPool::OnQueuedExpired(const CallPtr& call) {
  admission_.breaker().Release();
  if (events_.rejected) events_.rejected(RejectReason::kDeadline);
  Answer(call,
         Status(StatusCode::kDeadlineExceeded,
                CallLabel(call) + " waited " + std::to_string(Ms(time_.Now() - call->admitted)) +
                    " ms in the queue; its deadline passed before a worker was free"));
  MaybeFinishDrain();
}

// ---- dispatch and completion ---------------------------------------------

void ModelPool::Dispatch() {
  const auto& workers = supervisor_.workers();
  for (size_t i = 0; i < workers.size() && !scheduler_.empty(); ++i) {
    auto worker = workers[i];
    if (!supervisor_.Idle(*worker)) continue;  // busy, or still starting or warming up
    Batch batch = scheduler_.NextBatch();
    if (batch.empty()) break;  // waiting for the batch to fill
    // Requests whose deadline passed while queued leave without running.
    std::erase_if(batch, [this](const CallPtr& call) {
      if (!call->request.deadline || *call->request.deadline > time_.Now()) return false;
      admission_.breaker().Release();
      // Posted: Dispatch may run inside Submit, which never answers directly.
      Reject(
          call,
          Status(StatusCode::kDeadlineExceeded, CallLabel(call) + ": deadline passed in the queue"),
          RejectReason::kDeadline);
      return true;
    });
    if (batch.empty()) {
      --i;  // this worker is still idle
      continue;
    }
    Run(std::move(batch), worker);
  }
  // Requests that left the queue may have been a drain's last (posted:
  // Dispatch may run inside Submit).
  if (draining_) PostGuarded([this] { MaybeFinishDrain(); });
}

void ModelPool::Run(Batch batch, const std::shared_ptr<Worker>& worker) {
  const SteadyTime now = time_.Now();
  auto run = std::make_shared<RunningBatch>();
  run->calls = std::move(batch);
  run->worker = worker;
  std::optional<SteadyTime> deadline;
  for (const CallPtr& call : run->calls) {
    running_[call->ticket] = call;
    call->started = now;
    if (call->request.deadline && (!deadline || *call->request.deadline < *deadline)) {
      deadline = call->request.deadline;
    }
  }
  if (deadline) {
    // The timer belongs to the batch, so `raw` is alive whenever it fires.
    run->timer = time_.CreateTimer([this, raw = run.get()] { OnRunTimer(*raw); });
    // The batch answers together: its deadline is its members' earliest.
    run->due = *deadline;
    run->timer->EnableAt(*deadline);
  }
  if (events_.dispatched) events_.dispatched(run->calls.size());
  std::vector<Tensor> inputs;
  // Members of a batch have equal parameters (Batchable): the first's serve all.
  const Parameters parameters = run->calls.front()->request.parameters;
  if (run->calls.size() == 1) {
    inputs = std::move(run->calls.front()->request.inputs);
  } else {
    std::vector<const std::vector<Tensor>*> parts;
    for (const CallPtr& call : run->calls) parts.push_back(&call->request.inputs);
    inputs = ConcatBatch(parts);
  }
  worker->Infer(std::move(inputs), parameters, BatchRequestIds(run->calls),
                [this, run, worker](StatusOr<std::vector<Tensor>> result, CallOutcome outcome) {
                  OnBatchFinished(run, worker, std::move(result), outcome);
                });
}

void ModelPool::OnRunTimer(RunningBatch& run) {
  if (run.in_grace) {
    OnKillGraceOver(run);
  } else {
    OnRunningDeadline(run);
  }
}

void ModelPool::OnRunningDeadline(RunningBatch& run) {
  auto worker = run.worker.lock();
  const milliseconds grace{config_.deadline_kill_grace_ms};
  for (const CallPtr& call : run.calls) {
    if (call->answered || !call->request.deadline || *call->request.deadline > run.due) continue;
    // Which grace applies (interrupt or kill) is logged once the worker is
    // asked to stop, below or at the next member's deadline.
    LogWarn("deadline passed while running; answered 504, the worker may still return",
            {{"model", config_.name},
             {"version", std::to_string(version_)},
             {"request_id", call->request.request_id},
             {"pid", worker ? LogValue(worker->pid()) : LogValue(nullptr)}});
    Answer(call, Status(StatusCode::kDeadlineExceeded, CallLabel(call) + " ran past its deadline"));
  }
  // Members still waiting keep the call alive: at the next one's deadline
  // this runs again; a member without a deadline waits for the answer.
  std::optional<SteadyTime> next;
  for (const CallPtr& call : run.calls) {
    if (call->answered) continue;
    if (!call->request.deadline) return;
    if (!next || *call->request.deadline < *next) next = call->request.deadline;
  }
  if (next) {
    run.due = *next;
    run.timer->EnableAt(*next);
    return;
  }
  if (!worker) return;
  // The worker keeps its slot, and queued requests wait for it, until it
  // returns (kept; its late answer is dropped) or the grace ends. One that
  // can be interrupted is asked to stop now, and gets the shorter grace.
  run.in_grace = true;
  run.interrupted = worker->Interrupt();
  if (run.interrupted) {
    if (events_.worker_interrupted) events_.worker_interrupted();
    LogInfo("deadline passed while running; interrupted the worker's call",
            {{"model", config_.name},
             {"version", std::to_string(version_)},
             {"request_id", BatchRequestIds(run.calls)},
             {"pid", worker->pid()},
             {"grace_ms", config_.interrupt_grace_ms}});
  } else {
    LogInfo("deadline passed while running; the worker keeps its slot until the grace ends",
            {{"model", config_.name},
             {"version", std::to_string(version_)},
             {"request_id", BatchRequestIds(run.calls)},
             {"pid", worker->pid()},
             {"grace_ms", grace.count()}});
  }
  run.timer->Enable(run.interrupted ? milliseconds(config_.interrupt_grace_ms) : grace);
}

void ModelPool::OnKillGraceOver(RunningBatch& run) {
  auto worker = run.worker.lock();
  if (!worker || !running_.contains(run.calls.front()->ticket)) return;
  // A hung worker is a backend failure, unless the deadline it overran was a
  // client's own shortened one: then the kill is that client's doing.
  for (const CallPtr& call : run.calls) {
    SettleBreaker(call, call->request.client_shortened_deadline ? CallOutcome::kAbandoned
                                                                : CallOutcome::kWorkerDied);
  }
  const std::string& request_id = run.calls.front()->request.request_id;
  const int64_t grace_ms =
      run.interrupted ? config_.interrupt_grace_ms : config_.deadline_kill_grace_ms;
  const LogEvent event =
      run.interrupted
          ? LogEvent("worker did not return within the grace after its interrupt; killing it")
          : LogEvent("worker did not return within the grace after the deadline; killing it");
  LogWarn(event, {{"model", config_.name},
                  {"version", std::to_string(version_)},
                  {"request_id", request_id},
                  {"pid", worker->pid()},
                  {"grace_ms", grace_ms}});
  worker->Kill(Status(StatusCode::kDeadlineExceeded,
                      "killed: request " + request_id + " ran past its deadline and did not " +
                          (run.interrupted ? "return from its interrupt" : "return") + " within " +
                          std::to_string(grace_ms) + " ms"),
               DeathCause::kTimeout);
  supervisor_.UpdateReady();
}

void ModelPool::OnBatchFinished(const std::shared_ptr<RunningBatch>& run,
                                const std::shared_ptr<Worker>& worker,
                                StatusOr<std::vector<Tensor>> result, CallOutcome outcome) {
  if (run->timer) run->timer->Disable();  // ends the deadline wait or the kill grace
  const Batch& calls = run->calls;
  if (events_.executed && outcome == CallOutcome::kOk) {
    events_.executed(calls.size(),
                     std::chrono::duration<double>(time_.Now() - calls.front()->started).count());
  }
  if (calls.size() == 1) {
    Finish(calls.front(), std::move(result), outcome);
  } else if (!result.ok() &&
             (outcome == CallOutcome::kInvalidInput || outcome == CallOutcome::kModelError)) {
    // One member's input may have made the model fail the whole call: each
    // member runs again alone, at the head of the queue, and gets its own
    // answer. Its breaker permit stays held until then.
    LogInfo("batch failed in the model; retrying its requests one at a time",
            {{"model", config_.name},
             {"version", std::to_string(version_)},
             {"request_id", BatchRequestIds(calls)},
             {"error", result.status().message()}});
    for (auto it = calls.rbegin(); it != calls.rend(); ++it) {
      const CallPtr& call = *it;
      if (call->answered) {  // its deadline passed while running: done
        Finish(call, result.status(), outcome);
        continue;
      }
      running_.erase(call->ticket);
      call->alone = true;
      scheduler_.PushFront(call);
    }
  } else if (!result.ok()) {
    for (const CallPtr& call : calls) Finish(call, result.status(), outcome);
  } else {
    std::vector<int64_t> rows;
    for (const CallPtr& call : calls) rows.push_back(call->rows);
    auto parts = SplitBatch(std::move(result).value(), rows);
    // Rows that do not split back are the model's answer, not a sick backend.
    const CallOutcome split = parts.ok() ? outcome : CallOutcome::kModelError;
    for (size_t i = 0; i < calls.size(); ++i) {
      Finish(calls[i],
             parts.ok() ? StatusOr<std::vector<Tensor>>(std::move((*parts)[i]))
                        : StatusOr<std::vector<Tensor>>(parts.status()),
             split);
    }
  }
  supervisor_.UpdateReady();
  supervisor_.MaybeRecycle(worker);
  // Posted: stopping workers from inside a worker's answer is avoided.
  if (draining_) PostGuarded([this] { MaybeFinishDrain(); });
}

void ModelPool::Finish(const CallPtr& call, StatusOr<std::vector<Tensor>> result,
                       CallOutcome outcome) {
  running_.erase(call->ticket);
  if (events_.completed) {
    events_.completed(std::chrono::duration<double>(call->started - call->admitted).count(),
                      std::chrono::duration<double>(time_.Now() - call->started).count());
  }
  SettleBreaker(call, outcome);
  if (call->answered) return;  // answered at its deadline; the late answer is dropped
  Answer(call, std::move(result));
}

void ModelPool::SettleBreaker(const CallPtr& call, CallOutcome outcome) {
  if (call->breaker_settled) return;
  call->breaker_settled = true;
  CircuitBreaker& breaker = admission_.breaker();
  if (IsBackendFailure(outcome)) {
    breaker.OnFailure();
  } else if (outcome == CallOutcome::kNotRun || outcome == CallOutcome::kAbandoned ||
             call->answered) {
    // Never reached the model, or ended by us, or a late answer after the
    // client's own deadline: says nothing about the backend's health.
    breaker.Release();
  } else {
    breaker.OnSuccess();  // an answer, a model error or flagged input: the backend works
  }
}

}  // namespace modelgate
