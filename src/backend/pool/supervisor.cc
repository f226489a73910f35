#include "backend/pool/supervisor.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cctype>

#include "modelgate/log_event.h"

namespace modelgate {

using std::chrono::milliseconds;

namespace {

// A start failure's identity across attempts: its text without the worker's
// pid, which differs every time ("worker pid 4242 of model ...").
std::string FailureKey(const std::string& message) {
  static constexpr std::string_view kPid = "pid ";
  std::string key;
  key.reserve(message.size());
  size_t i = 0;
  while (i < message.size()) {
    if (message.compare(i, kPid.size(), kPid) == 0) {
      key += kPid;
      i += kPid.size();
      while (i < message.size() && std::isdigit(static_cast<unsigned char>(message[i]))) ++i;
      continue;
    }
    key += message[i++];
  }
  return key;
}

bool Dying(const Worker& w) {
  return w.state() == WorkerState::kDying || w.state() == WorkerState::kDead;
}

}  // namespace

Supervisor::Supervisor(boost::asio::io_context& io, const ModelConfig& config, int64_t version,
                       WorkerFactory factory, TimeSource& time, CircuitBreaker& breaker,
                       const PoolEvents& events, Hooks hooks)
    : io_(io),
      config_(config),
      version_(version),
      factory_(std::move(factory)),
      time_(time),
      breaker_(breaker),
      events_(events),
      hooks_(std::move(hooks)),
      breaker_timer_(time.CreateTimer([this] { UpdateReady(); })),
      warmup_(config, time) {}

Supervisor::~Supervisor() = default;

void Supervisor::Start() {
  for (int i = 0; i < config_.workers; ++i) SpawnWorker();
}

void Supervisor::SpawnWorker() {
  if (stopped_ || draining_ || hold_respawns_) return;
  auto w = factory_(this);
  workers_.push_back(w);
  w->Start();
}

void Supervisor::TopUp() {
  const auto alive =
      std::count_if(workers_.begin(), workers_.end(), [](auto& w) { return !Dying(*w); });
  for (auto i = alive; i < config_.workers; ++i) SpawnWorker();
}

std::string Supervisor::load_error() const {
  MutexLock lock(error_mu_);
  return load_error_;
}

void Supervisor::SetLoadError(std::string error) {
  MutexLock lock(error_mu_);
  load_error_ = std::move(error);
}

bool Supervisor::Serving(const Worker& w) const {
  const WorkerState state = w.state();
  if (state != WorkerState::kReady && state != WorkerState::kBusy) return false;
  return !warmup_.needed() || warmup_.phase(w) == Warmup::Phase::kDone;
}

bool Supervisor::Idle(const Worker& w) const {
  return w.state() == WorkerState::kReady && Serving(w);
}

bool Supervisor::AnyAlive() const {
  return std::any_of(workers_.begin(), workers_.end(), [this](auto& w) { return Serving(*w); });
}

bool Supervisor::AnyIdle() const {
  return std::any_of(workers_.begin(), workers_.end(), [this](auto& w) { return Idle(*w); });
}

std::array<int, kWorkerStateCount> Supervisor::WorkerStates() const {
  std::array<int, kWorkerStateCount> n{};
  for (const auto& w : workers_) {
    WorkerState state = w->state();
    // Warming up: not serving yet.
    if ((state == WorkerState::kReady || state == WorkerState::kBusy) && !Serving(*w)) {
      state = WorkerState::kStarting;
    }
    ++n[static_cast<size_t>(state)];
  }
  return n;
}

std::vector<int> Supervisor::WorkerPids() const {
  std::vector<int> pids;
  for (const auto& w : workers_) {
    // Dying workers have left their slot (a replacement may hold it already).
    if (Dying(*w) || w->pid() <= 0) continue;
    pids.push_back(w->pid());
  }
  return pids;
}

int64_t Supervisor::WorkerRssBytes() const {
  int64_t sum = 0;
  for (const auto& w : workers_) sum += std::max<int64_t>(0, w->RssBytes());
  return sum;
}

void Supervisor::MaybeRecycle(const std::shared_ptr<Worker>& worker) {
  if (!Idle(*worker)) return;
  // Warm-up requests do not count towards the limit.
  const uint64_t warmups = config_.warmup.size();
  const uint64_t served =
      worker->requests_served() > warmups ? worker->requests_served() - warmups : 0;
  std::string why;
  if (config_.recycle_max_requests > 0 &&
      served >= static_cast<uint64_t>(config_.recycle_max_requests)) {
    why = "served " + std::to_string(served) + " requests";
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

void Supervisor::OnWorkerReady(Worker& worker) {
  if (warmup_.needed()) {
    switch (warmup_.phase(worker)) {
      case Warmup::Phase::kNone: {
        // Its Hello: warm up before serving (never while stopping).
        if (stopped_ || draining_) return;
        auto it = std::find_if(workers_.begin(), workers_.end(),
                               [&](auto& w) { return w.get() == &worker; });
        if (it != workers_.end()) warmup_.Begin(*it);
        return;
      }
      case Warmup::Phase::kRunning:
      case Warmup::Phase::kFailed:
        return;
      case Warmup::Phase::kDone:
        break;
    }
  }
  if (consecutive_failures_ > 0 || !ready()) SetLoadError("");
  consecutive_failures_ = 0;
  same_failures_ = 0;
  last_failure_key_.clear();
  UpdateReady();
  if (!loaded_) {
    const auto serving =
        std::count_if(workers_.begin(), workers_.end(), [this](auto& w) { return Serving(*w); });
    if (serving >= config_.workers) {
      loaded_ = true;
      load_failure_.reset();
      if (load_awaited_ && hooks_.load_settled) hooks_.load_settled(Status::Ok());
    }
  }
  if (hooks_.worker_ready) hooks_.worker_ready();
}

void Supervisor::OnWorkerDead(Worker& worker, const Status& why, DeathCause cause) {
  auto it =
      std::find_if(workers_.begin(), workers_.end(), [&](auto& w) { return w.get() == &worker; });
  std::shared_ptr<Worker> keep = it != workers_.end() ? *it : nullptr;
  if (it != workers_.end()) workers_.erase(it);
  boost::asio::post(io_, [keep] {});  // outlive the caller's stack frame
  // A failed warm-up is a start failure, named by the warm-up.
  std::string message = why.message();
  if (auto failure = warmup_.Failure(worker)) {
    message = std::move(*failure);
    cause = DeathCause::kStartFailed;
  }
  warmup_.Forget(worker);
  UpdateReady();
  // A worker stopped for an unload is not replaced, even when the model was
  // loaded again before it died: Resume already started its successor.
  if (stopped_ || draining_ || cause == DeathCause::kStopped) {
    if (hooks_.worker_gone) hooks_.worker_gone();
    return;
  }
  milliseconds delay{0};
  if (cause == DeathCause::kStartFailed || cause == DeathCause::kCrash ||
      cause == DeathCause::kMalformed) {
    ++consecutive_failures_;
    delay = BackoffDelay();
  }
  const bool respawn =
      !hold_respawns_ && (cause != DeathCause::kStartFailed || OnStartFailed(message, delay));
  if (respawn) {
    if (events_.worker_restarted) events_.worker_restarted(cause);
    ScheduleRespawn(delay);
  }
  if (hooks_.worker_died) hooks_.worker_died();
  if (hooks_.worker_gone) hooks_.worker_gone();
}

bool Supervisor::OnStartFailed(const std::string& message, milliseconds delay) {
  const std::string key = FailureKey(message);
  same_failures_ = key == last_failure_key_ ? same_failures_ + 1 : 1;
  last_failure_key_ = key;
  const std::string version = std::to_string(version_);
  if (!loaded_ && !load_failure_) load_failure_ = message;
  if (!loaded_ && load_awaited_) {
    // The load waiting on this pool has failed; it discards the pool.
    LogError("model_load_failed", {{"model", config_.name},
                                   {"version", version},
                                   {"error", message},
                                   {"attempts", same_failures_}});
    SetLoadError(message);
    HoldRespawns();
    if (hooks_.load_settled) hooks_.load_settled(Unavailable(message));
    return false;
  }
  if (same_failures_ >= kSameErrorLimit) {
    LogError("model_load_given_up", {{"model", config_.name},
                                     {"version", version},
                                     {"error", message},
                                     {"attempts", same_failures_}});
    SetLoadError(message + " (failed " + std::to_string(same_failures_) +
                 " times in a row; not retried until its files change or a load is requested)");
    HoldRespawns();
    return false;
  }
  LogError("worker_start_failed", {{"model", config_.name},
                                   {"version", version},
                                   {"error", message},
                                   {"attempt", same_failures_},
                                   {"retry_in_ms", delay.count()}});
  SetLoadError(message);
  return true;
}

void Supervisor::HoldRespawns() {
  hold_respawns_ = true;
  respawn_timers_.clear();
}

std::optional<Status> Supervisor::AwaitLoad() {
  load_awaited_ = true;
  if (loaded_) return Status::Ok();
  if (load_failure_) {
    HoldRespawns();
    return Unavailable(*load_failure_);
  }
  return std::nullopt;
}

milliseconds Supervisor::BackoffDelay() {
  const int k = std::clamp(consecutive_failures_ - 1, 0, kBackoffMaxDoublings);
  const milliseconds base = std::min<milliseconds>(kBackoffBase * (1 << k), kBackoffMax);
  std::uniform_real_distribution<double> jitter(kBackoffJitterMin, kBackoffJitterMax);
  return milliseconds(static_cast<int64_t>(base.count() * jitter(rng_)));
}

void Supervisor::ScheduleRespawn(milliseconds delay) {
  const uint64_t id = next_respawn_++;
  // The callback drops its own timer (allowed by the Timer contract).
  auto timer = time_.CreateTimer([this, id] {
    respawn_timers_.erase(id);
    SpawnWorker();
  });
  if (delay.count() > 0) {
    LogInfo("replacing worker", {{"model", config_.name},
                                 {"version", std::to_string(version_)},
                                 {"delay_ms", delay.count()}});
  }
  timer->Enable(delay);
  respawn_timers_.emplace(id, std::move(timer));
}

void Supervisor::UpdateReady() {
  const auto breaker = breaker_.state();
  const bool now = AnyAlive() && breaker != CircuitBreaker::State::kOpen;
  if (breaker == CircuitBreaker::State::kOpen) {
    // Re-check readiness when the breaker lets probes through.
    breaker_timer_->Enable(breaker_.RemainingOpen() + kBreakerRecheckDelay);
  }
  if (ready_.exchange(now, std::memory_order_acq_rel) != now && events_.changed) events_.changed();
}

void Supervisor::Stop(milliseconds grace, const std::string& why) {
  stopped_ = true;
  SetLoadError("model " + why);
  respawn_timers_.clear();
  for (auto& w : workers_) {
    warmup_.Forget(*w);  // a warm-up cut short by a stop is no start failure
    w->Stop(grace, DeathCause::kStopped);
  }
}

void Supervisor::Drain(milliseconds grace) {
  draining_ = true;
  respawn_timers_.clear();
  for (auto& w : workers_) {
    if (Serving(*w) || Dying(*w)) continue;
    warmup_.Forget(*w);
    w->Stop(grace, DeathCause::kStopped);
  }
}

void Supervisor::Resume() {
  if ((!stopped_ && !hold_respawns_) || draining_) return;
  stopped_ = false;
  hold_respawns_ = false;
  SetLoadError("");
  consecutive_failures_ = 0;
  same_failures_ = 0;
  last_failure_key_.clear();
  TopUp();
}

}  // namespace modelgate
