#include "backend/pool/model_pool.h"

#include <algorithm>
#include <boost/asio/post.hpp>

#include "spdlog/spdlog.h"

namespace modelgate {

namespace asio = boost::asio;

namespace {
constexpr auto kBackoffBase = std::chrono::milliseconds(500);
constexpr auto kBackoffMax = std::chrono::milliseconds(30000);
constexpr int kRetryAfterSeconds = 1;
}  // namespace

ModelPool::ModelPool(asio::io_context& io, const ModelConfig& config, int64_t version,
                     WorkerFactory factory)
    : io_(io), config_(config), version_(version), factory_(std::move(factory)) {}

ModelPool::~ModelPool() {
  for (auto& t : respawn_timers_) t->cancel();
}

std::string ModelPool::Label() const {
  return "model '" + config_.name + "' version " + std::to_string(version_);
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

void ModelPool::Submit(std::vector<Tensor> inputs, std::string request_id, InferDone done) {
  Status reject;
  if (stopping_) {
    reject = Unavailable(Label() + " is " + stopped_why_);
  } else if (!ready() && !load_error().empty()) {
    reject = Unavailable(Label() + " is not ready: " + load_error());
  } else if (static_cast<int>(queue_.size()) >= config_.max_queue_size &&
             std::none_of(workers_.begin(), workers_.end(),
                          [](auto& w) { return w->state() == WorkerState::kReady; })) {
    reject = Status(StatusCode::kResourceExhausted,
                    Label() + ": queue is full (" + std::to_string(config_.max_queue_size) +
                        " waiting); retry later");
  }
  if (!reject.ok()) {
    reject.WithRetryAfter(kRetryAfterSeconds);
    asio::post(io_, [done = std::move(done), reject] { done(reject); });
    return;
  }
  queue_.push_back({std::move(inputs), std::move(request_id), std::move(done)});
  Dispatch();
}

void ModelPool::Dispatch() {
  for (auto& w : workers_) {
    if (queue_.empty()) return;
    if (w->state() != WorkerState::kReady) continue;
    Pending p = std::move(queue_.front());
    queue_.pop_front();
    w->Infer(std::move(p.inputs), std::move(p.request_id), std::move(p.done));
  }
}

void ModelPool::OnWorkerReady(Worker& worker) {
  if (consecutive_failures_ > 0 || !ready()) {
    std::lock_guard<std::mutex> lock(error_mu_);
    load_error_.clear();
  }
  consecutive_failures_ = 0;
  UpdateReady();
  // Dispatch after the current handler: the worker may be inside its own
  // completion callback, and a fresh call stack keeps the state machine simple.
  asio::post(io_, [this] { Dispatch(); });
}

void ModelPool::OnWorkerDead(Worker& worker, const Status& why, bool never_ready) {
  auto it = std::find_if(workers_.begin(), workers_.end(),
                         [&](auto& w) { return w.get() == &worker; });
  // Keep the worker alive until this callback's caller has returned.
  std::shared_ptr<Worker> keep = it != workers_.end() ? *it : nullptr;
  if (it != workers_.end()) workers_.erase(it);
  asio::post(io_, [keep] {});
  UpdateReady();
  if (stopping_) return;
  if (never_ready) {
    std::lock_guard<std::mutex> lock(error_mu_);
    load_error_ = why.message();
  }
  ++consecutive_failures_;
  ScheduleRespawn();
  // With nothing alive that could take them and a load error to show, queued
  // requests fail now instead of waiting for a respawn that may never succeed.
  const bool any_alive = std::any_of(workers_.begin(), workers_.end(), [](auto& w) {
    return w->state() == WorkerState::kReady || w->state() == WorkerState::kBusy;
  });
  if (!any_alive && !load_error().empty()) FailQueued(Unavailable(Label() + " is not ready: " + load_error()));
}

void ModelPool::ScheduleRespawn() {
  const int k = std::min(consecutive_failures_ - 1, 6);
  auto delay = std::min<std::chrono::milliseconds>(kBackoffBase * (1 << std::max(k, 0)), kBackoffMax);
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  delay = std::chrono::milliseconds(static_cast<int64_t>(delay.count() * jitter(rng_)));
  auto timer = std::make_unique<asio::steady_timer>(io_, delay);
  auto* raw = timer.get();
  respawn_timers_.push_back(std::move(timer));
  spdlog::info("{}: replacing worker in {} ms", Label(), delay.count());
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
  std::deque<Pending> q;
  q.swap(queue_);
  for (auto& p : q) {
    Status s = why;
    s.WithRetryAfter(kRetryAfterSeconds);
    p.done(s);
  }
}

void ModelPool::UpdateReady() {
  const bool now = std::any_of(workers_.begin(), workers_.end(), [](auto& w) {
    return w->state() == WorkerState::kReady || w->state() == WorkerState::kBusy;
  });
  if (ready_.exchange(now, std::memory_order_acq_rel) != now && observer_) observer_(now);
}

void ModelPool::Stop(std::chrono::milliseconds grace, const std::string& why) {
  stopping_ = true;
  stopped_why_ = why;
  {
    std::lock_guard<std::mutex> lock(error_mu_);
    load_error_ = "model " + why;
  }
  for (auto& t : respawn_timers_) t->cancel();
  FailQueued(Unavailable(Label() + " is " + why));
  for (auto& w : workers_) w->Stop(grace);
  UpdateReady();
}

}  // namespace modelgate

namespace modelgate {

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
