#include "backend/pool/model_pool.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cmath>

#include "common/retry_after.h"
#include "modelgate/log_event.h"
#include "scheduler/batching.h"
#include "spdlog/spdlog.h"

namespace modelgate {

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

constexpr milliseconds kBackoffBase{500};
constexpr milliseconds kBackoffMax{30000};
constexpr milliseconds kRecycleGrace{2000};

int64_t Ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration_cast<milliseconds>(d).count();
}

}  // namespace

ModelPool::ModelPool(asio::io_context& io, const ModelConfig& config, int64_t version,
                     WorkerFactory factory, const Clock& clock)
    : io_(io),
      config_(config),
      version_(version),
      factory_(std::move(factory)),
      clock_(clock),
      expiry_timer_(io),
      breaker_timer_(io),
      batch_timer_(io),
      breaker_(config.circuit_breaker, clock) {
  if (config.rate_limit_rps > 0)
    rate_limit_.emplace(config.rate_limit_rps, config.rate_limit_burst, clock);
}

ModelPool::~ModelPool() {
  for (auto& t : respawn_timers_) t->cancel();
}

std::string ModelPool::Label() const {
  return "model '" + config_.name + "' version " + std::to_string(version_);
}

std::string ModelPool::CallLabel(const CallPtr& call) const {
  return "request " + call->request.request_id + " to " + Label();
}

void ModelPool::Start() {
  for (int i = 0; i < config_.workers; ++i) SpawnWorker();
}

void ModelPool::SpawnWorker() {
  if (stopping_) return;
  auto w = factory_(this);
  workers_.push_back(w);
  w->Start();
}

std::string ModelPool::load_error() const {
  std::lock_guard<std::mutex> lock(error_mu_);
  return load_error_;
}

bool ModelPool::AnyAlive() const {
  return std::any_of(workers_.begin(), workers_.end(), [](auto& w) {
    return w->state() == WorkerState::kReady || w->state() == WorkerState::kBusy;
  });
}

bool ModelPool::RunsAtOnce() const {
  // Without batching an idle worker takes the next request immediately; with
  // batching requests may wait beside an idle worker, so the queue bound holds.
  return config_.max_batch_size == 0 && queue_.empty() &&
         std::any_of(workers_.begin(), workers_.end(),
                     [](auto& w) { return w->state() == WorkerState::kReady; });
}

std::array<int, 5> ModelPool::WorkerStates() const {
  std::array<int, 5> n{};
  for (const auto& w : workers_) ++n[static_cast<size_t>(w->state())];
  return n;
}

int64_t ModelPool::WorkerRssBytes() const {
  int64_t sum = 0;
  for (const auto& w : workers_) sum += std::max<int64_t>(0, w->RssBytes());
  return sum;
}

// ---- admission ----------------------------------------------------------

uint64_t ModelPool::Submit(PoolRequest request) {
  auto call = std::make_shared<Call>();
  call->ticket = next_ticket_++;
  call->request = std::move(request);
  call->admitted = clock_.Now();
  call->rows = BatchRows(call->request.inputs);
  const auto& deadline = call->request.deadline;

  if (stopping_) {
    Reject(call, Unavailable(Label() + " is " + stopped_why_).WithRetryAfter(kRetryAfterSeconds),
           "shutting_down");
  } else if (!AnyAlive() && !load_error().empty()) {
    Reject(
        call,
        Unavailable(Label() + " is not ready: " + load_error()).WithRetryAfter(kRetryAfterSeconds),
        "not_ready");
  } else if (deadline && *deadline <= call->admitted) {
    Reject(call,
           Status(StatusCode::kDeadlineExceeded, CallLabel(call) + ": deadline already passed"),
           "deadline");
  } else if (!breaker_.TryAcquire()) {
    const int after = RetryAfterSeconds(breaker_.RemainingOpen());
    Reject(call,
           Unavailable("circuit breaker of " + Label() +
                       " is open after repeated backend "
                       "failures; retry in " +
                       std::to_string(after) + " s")
               .WithRetryAfter(after),
           "breaker_open");
  } else if (rate_limit_ && !rate_limit_->TryTake()) {
    RejectBusy(call,
               "rate limit of " + std::to_string(config_.rate_limit_rps) + " requests/s exceeded",
               "rate_limited");
  } else if (static_cast<int>(queue_.size()) >= config_.max_queue_size && !RunsAtOnce()) {
    RejectBusy(
        call, "queue is full (" + std::to_string(config_.max_queue_size) + " waiting); retry later",
        "queue_full");
  } else {
    queue_.Push(call->ticket, deadline, call);
    ArmExpiry();
    Dispatch();
  }
  return call->ticket;
}

void ModelPool::RejectBusy(const CallPtr& call, const std::string& why, std::string_view reason) {
  breaker_.Release();  // the breaker admitted it; it never reaches the backend
  Reject(call,
         Status(StatusCode::kResourceExhausted, Label() + ": " + why)
             .WithRetryAfter(kRetryAfterSeconds),
         reason);
}

void ModelPool::Reject(const CallPtr& call, Status status, std::string_view reason) {
  call->answered = true;
  if (events_.rejected) events_.rejected(reason);
  asio::post(io_, [call, status = std::move(status)] { call->request.done(status); });
}

void ModelPool::Cancel(uint64_t ticket) {
  auto call = queue_.Remove(ticket);
  if (!call) return;
  breaker_.Release();
  Answer(*call, Status(StatusCode::kCancelled, CallLabel(*call) + " was cancelled by the client"));
  ArmExpiry();
}

void ModelPool::Answer(const CallPtr& call, StatusOr<std::vector<Tensor>> result) {
  if (call->answered) return;
  call->answered = true;
  if (call->deadline_timer) call->deadline_timer->cancel();
  // Every "retry later" answer says when (a worker died, the model is gone).
  if (!result.ok() && result.status().code() == StatusCode::kUnavailable &&
      !result.status().retry_after_seconds()) {
    Status s = result.status();
    call->request.done(s.WithRetryAfter(kRetryAfterSeconds));
    return;
  }
  call->request.done(std::move(result));
}

// ---- queue deadlines ----------------------------------------------------

void ModelPool::ArmExpiry() {
  auto next = queue_.NextDeadline();
  if (!next) {
    expiry_timer_.cancel();
    return;
  }
  // The io timer runs on the real steady clock; the injected clock only
  // decides what has expired.
  expiry_timer_.expires_at(std::chrono::steady_clock::now() + (*next - clock_.Now()));
  expiry_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) ExpireQueued();
  });
}

void ModelPool::ExpireQueued() {
  const SteadyTime now = clock_.Now();
  for (auto& call : queue_.TakeExpired(now)) {
    breaker_.Release();
    if (events_.rejected) events_.rejected("deadline");
    Answer(call, Status(StatusCode::kDeadlineExceeded,
                        CallLabel(call) + " waited " + std::to_string(Ms(now - call->admitted)) +
                            " ms in the queue; its deadline passed before a worker was free"));
  }
  ArmExpiry();
}

// ---- dispatch and completion ---------------------------------------------

void ModelPool::Dispatch() {
  for (size_t i = 0; i < workers_.size() && !queue_.empty(); ++i) {
    auto worker = workers_[i];
    if (worker->state() != WorkerState::kReady) continue;
    auto batch = std::make_shared<Batch>(NextBatch());
    if (batch->empty()) break;  // waiting for the batch to fill
    // Requests whose deadline passed while queued leave without running.
    std::erase_if(*batch, [this](const CallPtr& call) {
      if (!call->request.deadline || *call->request.deadline > clock_.Now()) return false;
      breaker_.Release();
      // Posted: Dispatch may run inside Submit, which never answers directly.
      Reject(
          call,
          Status(StatusCode::kDeadlineExceeded, CallLabel(call) + ": deadline passed in the queue"),
          "deadline");
      return true;
    });
    if (batch->empty()) {
      --i;  // this worker is still idle
      continue;
    }
    Run(batch, worker);
  }
  ArmExpiry();
}

ModelPool::Batch ModelPool::NextBatch() {
  Batch batch{queue_.At(0)};
  if (config_.max_batch_size == 0) {
    queue_.PopFront();
    return batch;
  }
  const auto& first = queue_.At(0)->request.inputs;
  int64_t rows = BatchRows(first);
  bool full = rows < 0 || rows >= config_.max_batch_size;
  size_t n = 1;
  // Take followers in FIFO order while they fit; the first that cannot join
  // ends the batch (it will lead the next one), so order is kept.
  while (!full && n < queue_.size()) {
    const auto& next = queue_.At(n)->request.inputs;
    const int64_t r = BatchRows(next);
    if (!Batchable(first, next) || rows + r > config_.max_batch_size) {
      full = true;
      break;
    }
    rows += r;
    ++n;
    full = rows >= config_.max_batch_size;
  }
  const bool preferred =
      std::find(config_.preferred_batch_sizes.begin(), config_.preferred_batch_sizes.end(), rows) !=
      config_.preferred_batch_sizes.end();
  const SteadyTime go_at =
      queue_.At(0)->admitted + std::chrono::microseconds(config_.max_queue_delay_us);
  if (!full && !preferred && clock_.Now() < go_at) {
    // Wait for more requests, but never past the oldest one's delay bound.
    batch_timer_.expires_at(std::chrono::steady_clock::now() + (go_at - clock_.Now()));
    batch_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) Dispatch();
    });
    return {};
  }
  batch.clear();
  for (size_t i = 0; i < n; ++i) batch.push_back(*queue_.PopFront());
  return batch;
}

void ModelPool::Run(std::shared_ptr<Batch> batch, const std::shared_ptr<Worker>& worker) {
  const SteadyTime now = clock_.Now();
  std::optional<SteadyTime> deadline;
  for (const CallPtr& call : *batch) {
    running_[call->ticket] = call;
    call->started = now;
    if (call->request.deadline && (!deadline || *call->request.deadline < *deadline)) {
      deadline = call->request.deadline;
    }
  }
  if (deadline) {
    // The batch answers together: its deadline is its members' earliest.
    auto timer = std::make_shared<asio::steady_timer>(
        io_, std::chrono::steady_clock::now() + (*deadline - now));
    for (const CallPtr& call : *batch) call->deadline_timer = timer;
    std::weak_ptr<Worker> weak = worker;
    timer->async_wait([this, batch, weak, due = *deadline](const boost::system::error_code& ec) {
      if (!ec) OnRunningDeadline(batch, weak, due);
    });
  }
  if (events_.dispatched) events_.dispatched(batch->size());
  std::vector<Tensor> inputs;
  std::string request_id;
  if (batch->size() == 1) {
    inputs = std::move(batch->front()->request.inputs);
    request_id = batch->front()->request.request_id;
  } else {
    std::vector<std::vector<Tensor>*> parts;
    for (const CallPtr& call : *batch) {
      parts.push_back(&call->request.inputs);
      request_id += (request_id.empty() ? "" : ",") + call->request.request_id;
    }
    inputs = ConcatBatch(std::move(parts));
  }
  worker->Infer(std::move(inputs), std::move(request_id),
                [this, batch, worker](StatusOr<std::vector<Tensor>> result, CallOutcome outcome) {
                  OnBatchFinished(batch, worker, std::move(result), outcome);
                });
}

void ModelPool::OnRunningDeadline(const std::shared_ptr<Batch>& batch,
                                  const std::weak_ptr<Worker>& weak, SteadyTime due) {
  auto worker = weak.lock();
  const milliseconds grace{config_.deadline_kill_grace_ms};
  for (const CallPtr& call : *batch) {
    if (call->answered || !call->request.deadline || *call->request.deadline > due) continue;
    LogWarn("deadline passed while running; the worker may return within the grace",
            {{"model", config_.name},
             {"version", std::to_string(version_)},
             {"request_id", call->request.request_id},
             {"pid", worker ? LogValue(worker->pid()) : LogValue(nullptr)},
             {"grace_ms", grace.count()}});
    Answer(call, Status(StatusCode::kDeadlineExceeded, CallLabel(call) + " ran past its deadline"));
  }
  // Members still waiting keep the call alive: at the next one's deadline
  // this runs again; a member without a deadline waits for the answer.
  std::optional<SteadyTime> next;
  for (const CallPtr& call : *batch) {
    if (call->answered) continue;
    if (!call->request.deadline) return;
    if (!next || *call->request.deadline < *next) next = call->request.deadline;
  }
  const auto& timer = batch->front()->deadline_timer;
  if (next) {
    timer->expires_after(*next - due);
    timer->async_wait([this, batch, weak, due = *next](const boost::system::error_code& ec) {
      if (!ec) OnRunningDeadline(batch, weak, due);
    });
    return;
  }
  if (!worker) return;
  // The worker keeps its slot, and queued requests wait for it, until it
  // returns by itself (kept; its late answer is dropped) or the grace ends.
  timer->expires_after(grace);
  timer->async_wait([this, batch, weak](const boost::system::error_code& ec) {
    if (!ec) OnKillGraceOver(batch, weak);
  });
}

void ModelPool::OnKillGraceOver(const std::shared_ptr<Batch>& batch,
                                const std::weak_ptr<Worker>& weak) {
  auto worker = weak.lock();
  // Already finished: the timer fired just before the answer cancelled it.
  if (!worker || !running_.contains(batch->front()->ticket)) return;
  // A hung worker is a backend failure, unless the deadline it overran was a
  // client's own shortened one: then the kill is that client's doing.
  for (const CallPtr& call : *batch) {
    SettleBreaker(call, call->request.client_shortened_deadline ? CallOutcome::kAbandoned
                                                                : CallOutcome::kWorkerDied);
  }
  LogWarn("worker did not return within the grace after the deadline; killing it",
          {{"model", config_.name},
           {"version", std::to_string(version_)},
           {"request_id", batch->front()->request.request_id},
           {"pid", worker->pid()},
           {"grace_ms", config_.deadline_kill_grace_ms}});
  worker->Kill(Status(StatusCode::kDeadlineExceeded,
                      "killed: request " + batch->front()->request.request_id +
                          " ran past its deadline and did not return within " +
                          std::to_string(config_.deadline_kill_grace_ms) + " ms"),
               DeathCause::kTimeout);
  UpdateReady();
}

void ModelPool::OnBatchFinished(const std::shared_ptr<Batch>& batch,
                                const std::shared_ptr<Worker>& worker,
                                StatusOr<std::vector<Tensor>> result, CallOutcome outcome) {
  // Ends the deadline wait or the kill grace, whichever is armed.
  if (const auto& timer = batch->front()->deadline_timer) timer->cancel();
  if (batch->size() == 1) {
    Finish(batch->front(), std::move(result), outcome);
  } else if (!result.ok()) {
    for (const CallPtr& call : *batch) Finish(call, result.status(), outcome);
  } else {
    std::vector<int64_t> rows;
    for (const CallPtr& call : *batch) rows.push_back(call->rows);
    auto parts = SplitBatch(std::move(result).value(), rows);
    // Rows that do not split back are the model's answer, not a sick backend.
    const CallOutcome split = parts.ok() ? outcome : CallOutcome::kModelError;
    for (size_t i = 0; i < batch->size(); ++i) {
      Finish((*batch)[i],
             parts.ok() ? StatusOr<std::vector<Tensor>>(std::move((*parts)[i]))
                        : StatusOr<std::vector<Tensor>>(parts.status()),
             split);
    }
  }
  UpdateReady();
  MaybeRecycle(worker);
}

void ModelPool::Finish(const CallPtr& call, StatusOr<std::vector<Tensor>> result,
                       CallOutcome outcome) {
  running_.erase(call->ticket);
  if (events_.completed) {
    events_.completed(std::chrono::duration<double>(call->started - call->admitted).count(),
                      std::chrono::duration<double>(clock_.Now() - call->started).count());
  }
  SettleBreaker(call, outcome);
  if (call->answered) return;  // answered at its deadline; the late answer is dropped
  Answer(call, std::move(result));
}

void ModelPool::SettleBreaker(const CallPtr& call, CallOutcome outcome) {
  if (call->breaker_settled) return;
  call->breaker_settled = true;
  if (IsBackendFailure(outcome)) {
    breaker_.OnFailure();
  } else if (outcome == CallOutcome::kNotRun || outcome == CallOutcome::kAbandoned ||
             call->answered) {
    // Never reached the model, or ended by us, or a late answer after the
    // client's own deadline: says nothing about the backend's health.
    breaker_.Release();
  } else {
    breaker_.OnSuccess();  // an answer, a model error or flagged input: the backend works
  }
}

void ModelPool::MaybeRecycle(const std::shared_ptr<Worker>& worker) {
  if (worker->state() != WorkerState::kReady) return;
  std::string why;
  if (config_.recycle_max_requests > 0 &&
      worker->requests_served() >= static_cast<uint64_t>(config_.recycle_max_requests)) {
    why = "served " + std::to_string(worker->requests_served()) + " requests";
  } else if (config_.recycle_max_rss_mb > 0) {
    const int64_t rss = worker->RssBytes();
    if (rss > config_.recycle_max_rss_mb * 1024 * 1024) {
      why = "RSS " + std::to_string(rss >> 20) + " MiB above " +
            std::to_string(config_.recycle_max_rss_mb) + " MiB";
    }
  }
  if (why.empty()) return;
  LogInfo("worker recycled", {{"model", config_.name},
                              {"version", std::to_string(version_)},
                              {"pid", worker->pid()},
                              {"reason", why}});
  worker->Stop(kRecycleGrace, DeathCause::kRecycle);
}

// ---- supervision ----------------------------------------------------------

void ModelPool::OnWorkerReady(Worker& worker) {
  if (consecutive_failures_ > 0 || !ready()) {
    std::lock_guard<std::mutex> lock(error_mu_);
    load_error_.clear();
  }
  consecutive_failures_ = 0;
  UpdateReady();
  // Dispatch from a fresh handler: the worker may be inside its own callback.
  asio::post(io_, [this] { Dispatch(); });
}

void ModelPool::OnWorkerDead(Worker& worker, const Status& why, DeathCause cause) {
  auto it =
      std::find_if(workers_.begin(), workers_.end(), [&](auto& w) { return w.get() == &worker; });
  std::shared_ptr<Worker> keep = it != workers_.end() ? *it : nullptr;
  if (it != workers_.end()) workers_.erase(it);
  asio::post(io_, [keep] {});  // outlive the caller's stack frame
  UpdateReady();
  // A worker stopped for an unload is not replaced, even when the model was
  // loaded again before it died: Resume already started its successor.
  if (stopping_ || cause == DeathCause::kStopped) return;
  if (events_.worker_restarted) events_.worker_restarted(cause);
  milliseconds delay{0};
  if (cause == DeathCause::kStartFailed || cause == DeathCause::kCrash ||
      cause == DeathCause::kMalformed) {
    ++consecutive_failures_;
    delay = BackoffDelay();
  }
  if (cause == DeathCause::kStartFailed) {
    std::lock_guard<std::mutex> lock(error_mu_);
    load_error_ = why.message();
  }
  ScheduleRespawn(delay);
  // Nothing alive to take queued requests and a load error to show: fail them
  // now instead of waiting on a respawn that may never succeed.
  if (!AnyAlive() && !load_error().empty()) {
    FailQueued(Unavailable(Label() + " is not ready: " + load_error()));
  }
}

milliseconds ModelPool::BackoffDelay() {
  const int k = std::clamp(consecutive_failures_ - 1, 0, 10);
  const milliseconds base = std::min<milliseconds>(kBackoffBase * (1 << k), kBackoffMax);
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  return milliseconds(static_cast<int64_t>(base.count() * jitter(rng_)));
}

void ModelPool::ScheduleRespawn(milliseconds delay) {
  auto timer = std::make_unique<asio::steady_timer>(io_, delay);
  auto* raw = timer.get();
  respawn_timers_.push_back(std::move(timer));
  if (delay.count() > 0) {
    LogInfo("replacing worker", {{"model", config_.name},
                                 {"version", std::to_string(version_)},
                                 {"delay_ms", delay.count()}});
  }
  raw->async_wait([this, raw](const boost::system::error_code& ec) {
    auto it = std::find_if(respawn_timers_.begin(), respawn_timers_.end(),
                           [raw](auto& t) { return t.get() == raw; });
    std::unique_ptr<asio::steady_timer> self;
    if (it != respawn_timers_.end()) {
      self = std::move(*it);
      respawn_timers_.erase(it);
    }
    if (ec || stopping_) return;
    SpawnWorker();
  });
}

void ModelPool::FailQueued(const Status& why) {
  for (auto& call : queue_.TakeAll()) {
    breaker_.Release();
    Status s = why;
    Answer(call, s.WithRetryAfter(kRetryAfterSeconds));
  }
  ArmExpiry();
}

void ModelPool::UpdateReady() {
  const auto breaker = breaker_.state();
  const bool now = AnyAlive() && breaker != CircuitBreaker::State::kOpen;
  if (breaker == CircuitBreaker::State::kOpen) {
    // Re-check readiness when the breaker lets probes through.
    breaker_timer_.expires_after(breaker_.RemainingOpen() + milliseconds(1));
    breaker_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) UpdateReady();
    });
  }
  if (ready_.exchange(now, std::memory_order_acq_rel) != now && events_.changed) events_.changed();
}

// ---- stop and resume -------------------------------------------------------

void ModelPool::Stop(milliseconds grace, const std::string& why) {
  stopping_ = true;
  stopped_why_ = why;
  {
    std::lock_guard<std::mutex> lock(error_mu_);
    load_error_ = "model " + why;
  }
  for (auto& t : respawn_timers_) t->cancel();
  FailQueued(Unavailable(Label() + " is " + why));
  for (auto& w : workers_) w->Stop(grace, DeathCause::kStopped);
  UpdateReady();
}

void ModelPool::Resume() {
  if (!stopping_) return;
  stopping_ = false;
  {
    std::lock_guard<std::mutex> lock(error_mu_);
    load_error_.clear();
  }
  consecutive_failures_ = 0;
  const auto alive = std::count_if(workers_.begin(), workers_.end(), [](auto& w) {
    return w->state() != WorkerState::kDying && w->state() != WorkerState::kDead;
  });
  for (auto i = alive; i < config_.workers; ++i) SpawnWorker();
}

}  // namespace modelgate
