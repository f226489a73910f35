#include "backend/pool/supervisor.h"

#include <algorithm>
#include <boost/asio/post.hpp>

#include "modelgate/log_event.h"

namespace modelgate {

using std::chrono::milliseconds;

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
      breaker_timer_(time.CreateTimer([this] { UpdateReady(); })) {}

Supervisor::~Supervisor() = default;

void Supervisor::Start() {
  for (int i = 0; i < config_.workers; ++i) SpawnWorker();
}

void Supervisor::SpawnWorker() {
  if (stopped_) return;
  auto w = factory_(this);
  workers_.push_back(w);
  w->Start();
}

std::string Supervisor::load_error() const {
  MutexLock lock(error_mu_);
  return load_error_;
}

void Supervisor::SetLoadError(std::string error) {
  MutexLock lock(error_mu_);
  load_error_ = std::move(error);
}

bool Supervisor::AnyAlive() const {
  return std::any_of(workers_.begin(), workers_.end(), [](auto& w) {
    return w->state() == WorkerState::kReady || w->state() == WorkerState::kBusy;
  });
}

bool Supervisor::AnyIdle() const {
  return std::any_of(workers_.begin(), workers_.end(),
                     [](auto& w) { return w->state() == WorkerState::kReady; });
}

std::array<int, kWorkerStateCount> Supervisor::WorkerStates() const {
  std::array<int, kWorkerStateCount> n{};
  for (const auto& w : workers_) ++n[static_cast<size_t>(w->state())];
  return n;
}

std::vector<int> Supervisor::WorkerPids() const {
  std::vector<int> pids;
  for (const auto& w : workers_) {
    // Dying workers have left their slot (a replacement may hold it already).
    const WorkerState state = w->state();
    if (state == WorkerState::kDying || state == WorkerState::kDead || w->pid() <= 0) continue;
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

void Supervisor::OnWorkerReady(Worker&) {
  if (consecutive_failures_ > 0 || !ready()) SetLoadError("");
  consecutive_failures_ = 0;
  UpdateReady();
  if (hooks_.worker_ready) hooks_.worker_ready();
}

void Supervisor::OnWorkerDead(Worker& worker, const Status& why, DeathCause cause) {
  auto it =
      std::find_if(workers_.begin(), workers_.end(), [&](auto& w) { return w.get() == &worker; });
  std::shared_ptr<Worker> keep = it != workers_.end() ? *it : nullptr;
  if (it != workers_.end()) workers_.erase(it);
  boost::asio::post(io_, [keep] {});  // outlive the caller's stack frame
  UpdateReady();
  // A worker stopped for an unload is not replaced, even when the model was
  // loaded again before it died: Resume already started its successor.
  if (stopped_ || cause == DeathCause::kStopped) return;
  if (events_.worker_restarted) events_.worker_restarted(cause);
  milliseconds delay{0};
  if (cause == DeathCause::kStartFailed || cause == DeathCause::kCrash ||
      cause == DeathCause::kMalformed) {
    ++consecutive_failures_;
    delay = BackoffDelay();
  }
  if (cause == DeathCause::kStartFailed) SetLoadError(why.message());
  ScheduleRespawn(delay);
  if (hooks_.worker_died) hooks_.worker_died();
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
  for (auto& w : workers_) w->Stop(grace, DeathCause::kStopped);
}

void Supervisor::Resume() {
  if (!stopped_) return;
  stopped_ = false;
  SetLoadError("");
  consecutive_failures_ = 0;
  const auto alive = std::count_if(workers_.begin(), workers_.end(), [](auto& w) {
    return w->state() != WorkerState::kDying && w->state() != WorkerState::kDead;
  });
  for (auto i = alive; i < config_.workers; ++i) SpawnWorker();
}

}  // namespace modelgate
