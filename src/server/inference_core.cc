#include "server/inference_core.h"

#include <boost/asio/post.hpp>

#include "backend/pool/model_pool.h"
#include "backend/process/process_worker.h"
#include "common/retry_after.h"
#include "server/request_validation.h"

namespace modelgate {

namespace asio = boost::asio;

// A version's workers report to it; the pool hears everything first, then
// the core re-checks its waiters, as a worker's death may be the last one.
// io thread only.
class InferenceCore::WorkerEvents final : public Worker::Listener {
 public:
  explicit WorkerEvents(InferenceCore& core) : core_(core) {}
  void set_pool(Worker::Listener* pool) { pool_ = pool; }
  void OnWorkerReady(Worker& worker) override { pool_->OnWorkerReady(worker); }
  void OnWorkerDead(Worker& worker, const Status& why, DeathCause cause) override {
    pool_->OnWorkerDead(worker, why, cause);
    if (core_.has_waiters_.load()) asio::post(core_.io_, [core = &core_] { core->RunWaiters(); });
  }

 private:
  InferenceCore& core_;
  Worker::Listener* pool_ = nullptr;  // set before the first worker exists
};

InferenceCore::InferenceCore(asio::io_context& io, RuntimeSettings runtime,
                             std::vector<ModelEntry> models, Metrics* metrics)
    : io_(io), time_(io), runtime_(std::move(runtime)), reaper_(io), metrics_(metrics) {
  for (auto& entry : models) {
    auto model = std::make_unique<Model>();
    model->config = std::move(entry.config);
    const ModelConfig& config = model->config;
    for (const auto& [version, v] : entry.versions) {
      const std::string& dir = v.dir;
      WorkerOptions options;
      options.model = config.name;
      options.version = std::to_string(version);
      options.startup_timeout = std::chrono::milliseconds(config.startup_timeout_ms);
      options.spawn = WorkerCommand(
          runtime_, {config.backend, dir, config.dataframe, config.interpreter, config.env});
      options.spawn.limits = config.limits;
      // The workers report to `forward`, which passes it on to the pool's
      // supervisor (the listener the pool hands the factory).
      auto forward = std::make_unique<WorkerEvents>(*this);
      auto factory = [this, options,
                      forward = forward.get()](Worker::Listener* pool) -> std::shared_ptr<Worker> {
        forward->set_pool(pool);
        return std::make_shared<ProcessWorker>(io_, reaper_, time_, options, forward);
      };
      auto pool = std::make_unique<ModelPool>(io_, config, version, factory, time_);
      model->listeners.emplace(version, std::move(forward));
      PoolEvents events;
      events.changed = [this, name = config.name] {
        if (observer_) observer_(name);
      };
      if (metrics_) {
        ModelMetrics* mm = &metrics_->ForModel(config.name, std::to_string(version));
        model->metrics[version] = mm;
        events.rejected = [mm](RejectReason reason) { mm->RecordRejected(reason); };
        events.worker_restarted = [mm](DeathCause cause) { mm->RecordRestart(cause); };
        events.dispatched = [mm](size_t batch) { mm->RecordBatch(batch); };
        events.completed = [mm](double queued, double computed) {
          mm->RecordQueueAndCompute(queued, computed);
        };
      }
      pool->set_events(std::move(events));
      model->pools.emplace(version, std::move(pool));
    }
    models_.emplace(model->config.name, std::move(model));
  }
}

InferenceCore::~InferenceCore() = default;

void InferenceCore::Start() {
  asio::post(io_, [this] {
    for (auto& [name, model] : models_) {
      for (auto& [v, pool] : model->pools) pool->Start();
    }
  });
}

void InferenceCore::Stop(std::chrono::milliseconds grace) {
  for (auto& [name, model] : models_) {
    for (auto& [v, pool] : model->pools) pool->Stop(grace, "shutting down");
  }
}

Status InferenceCore::SetLoaded(const std::string& name, bool loaded) {
  auto it = models_.find(name);
  if (it == models_.end()) return NotFound("unknown model '" + name + "'");
  for (auto& [v, pool] : it->second->pools) {
    if (loaded) {
      pool->Resume();
    } else {
      pool->Stop(std::chrono::seconds(5), "unloaded");
    }
  }
  if (observer_) observer_(name);
  return Status::Ok();
}

StatusOr<ModelTarget> InferenceCore::Find(const std::string& name,
                                          const std::string& version) const {
  auto it = models_.find(name);
  if (it == models_.end()) return NotFound("unknown model '" + name + "'");
  const Model& m = *it->second;
  ModelTarget r;
  r.config = &m.config;
  for (const auto& [v, pool] : m.pools) r.versions.push_back(v);
  if (version.empty()) {
    r.version = m.pools.rbegin()->first;
  } else {
    char* end = nullptr;
    const long long v = std::strtoll(version.c_str(), &end, 10);
    if (end == version.c_str() || *end != '\0' || v <= 0) {
      return InvalidArgument("model version '" + version + "' is not a positive integer");
    }
    if (!m.pools.count(v)) {
      return NotFound("model '" + name + "' has no version " + version);
    }
    r.version = v;
  }
  if (auto it = m.metrics.find(r.version); it != m.metrics.end()) r.metrics = it->second;
  return r;
}

size_t InferenceCore::WorkerProcesses() const {
  size_t n = 0;
  for (const auto& [name, m] : models_) {
    for (const auto& [v, pool] : m->pools) n += pool->worker_count();
  }
  return n;
}

std::vector<PoolSnapshot> InferenceCore::Snapshot() {
  std::vector<PoolSnapshot> out;
  for (auto& [name, m] : models_) {
    for (auto& [v, pool] : m->pools) {
      PoolSnapshot s;
      s.model = name;
      s.version = std::to_string(v);
      s.queue_depth = pool->queue_depth();
      s.inflight = pool->queue_depth() + pool->running();
      s.workers = pool->WorkerStates();
      s.breaker_state = static_cast<int>(pool->breaker_state());
      s.worker_memory_bytes = pool->WorkerRssBytes();
      s.worker_pids = pool->WorkerPids();
      s.worker_slots = pool->config().workers;
      out.push_back(std::move(s));
    }
  }
  return out;
}

ModelPool& InferenceCore::PoolOf(const ModelTarget& target) const {
  return *models_.at(target.config->name)->pools.at(target.version);
}

bool InferenceCore::ModelReady(const ModelTarget& target) const { return PoolOf(target).ready(); }

std::string InferenceCore::NotReadyReason(const ModelTarget& target) const {
  std::string e = PoolOf(target).load_error();
  return e.empty() ? "no worker is ready yet" : e;
}

bool InferenceCore::ServerReady() const {
  if (shutting_down_.load()) return false;
  for (const auto& [name, m] : models_) {
    if (!m->config.required) continue;
    for (const auto& [v, pool] : m->pools) {
      if (!pool->ready()) return false;
    }
  }
  return true;
}

std::vector<ModelStatus> InferenceCore::Index() const {
  std::vector<ModelStatus> out;
  for (const auto& [name, m] : models_) {
    for (const auto& [v, pool] : m->pools) {
      out.push_back({name, v, pool->ready(), pool->ready() ? "" : pool->load_error()});
    }
  }
  return out;
}

std::vector<std::string> InferenceCore::ModelNames() const {
  std::vector<std::string> out;
  for (const auto& [name, m] : models_) out.push_back(name);
  return out;
}

namespace {

// The pool-side half of an InferHandle: set on the io thread once queued.
class PoolHandle final : public InferHandle, public std::enable_shared_from_this<PoolHandle> {
 public:
  explicit PoolHandle(asio::io_context& io) : io_(io) {}
  void Cancel() override {
    if (cancelled_.exchange(true)) return;
    asio::post(io_, [self = shared_from_this()] {
      if (self->pool_) self->pool_->Cancel(self->ticket_);
    });
  }
  // io thread.
  void Bind(ModelPool* pool, uint64_t ticket) {
    pool_ = pool;
    ticket_ = ticket;
    if (cancelled_.load()) pool->Cancel(ticket);
  }

 private:
  asio::io_context& io_;
  std::atomic<bool> cancelled_{false};
  ModelPool* pool_ = nullptr;  // io thread only
  uint64_t ticket_ = 0;
};

struct EffectiveDeadline {
  std::optional<SteadyTime> deadline;
  // The client's own deadline is earlier than the model's (its default, else
  // its cap; with neither configured, any deadline a client sets).
  bool client_shortened = false;
};

EffectiveDeadline DeadlineFor(const ModelConfig& c, std::optional<SteadyTime> client,
                              SteadyTime now) {
  std::optional<SteadyTime> cap;
  if (c.max_timeout_ms > 0) cap = now + std::chrono::milliseconds(c.max_timeout_ms);
  std::optional<SteadyTime> model_default;
  if (c.default_timeout_ms > 0)
    model_default = now + std::chrono::milliseconds(c.default_timeout_ms);
  EffectiveDeadline out;
  if (client) {
    const std::optional<SteadyTime> reference = model_default ? model_default : cap;
    out.client_shortened = !reference || *client < *reference;
  } else {
    client = model_default;
  }
  out.deadline = client && cap ? std::min(*client, *cap) : client;
  return out;
}

}  // namespace

std::shared_ptr<InferHandle> InferenceCore::Infer(InferRequest request, InferCallback done) {
  auto found = Find(request.model, request.version);
  if (!found.ok()) {
    asio::post(io_, [done = std::move(done), s = found.status()] { done(s); });
    return std::make_shared<PoolHandle>(io_);
  }
  return Infer(*found, std::move(request), std::move(done));
}

std::shared_ptr<InferHandle> InferenceCore::Infer(const ModelTarget& target, InferRequest request,
                                                  InferCallback done) {
  auto handle = std::make_shared<PoolHandle>(io_);
  Status s = ValidateInputs(*target.config, request.inputs);
  if (s.ok()) s = ValidateRequestedOutputs(*target.config, request.requested_outputs);
  if (s.ok() && shutting_down_.load()) {
    s = Unavailable("the server is shutting down").WithRetryAfter(kRetryAfterSeconds);
    if (target.metrics) target.metrics->RecordRejected(RejectReason::kStopping);
  }
  if (s.ok() && inflight_.fetch_add(1, std::memory_order_relaxed) >= max_inflight_) {
    ReleaseInflight();
    s = Status(StatusCode::kResourceExhausted,
               "the server has " + std::to_string(max_inflight_) +
                   " requests in flight (--max-inflight); retry later")
            .WithRetryAfter(kRetryAfterSeconds);
    if (target.metrics) target.metrics->RecordRejected(RejectReason::kServerBusy);
  }
  if (!s.ok()) {
    asio::post(io_, [done = std::move(done), s] { done(s); });
    return handle;
  }
  ModelPool* pool = &PoolOf(target);
  PoolRequest pr;
  const EffectiveDeadline deadline = DeadlineFor(*target.config, request.deadline, time_.Now());
  pr.deadline = deadline.deadline;
  pr.client_shortened_deadline = deadline.client_shortened;
  pr.request_id = request.id;
  pr.inputs = std::move(request.inputs);
  pr.done = [this, pool, id = std::move(request.id), model = std::move(request.model),
             outputs = std::move(request.requested_outputs),
             done = std::move(done)](StatusOr<std::vector<Tensor>> result) mutable {
    ReleaseInflight();
    if (!result.ok()) {
      done(result.status());
      return;
    }
    InferResponse r;
    r.outputs = std::move(result).value();
    Status s = ShapeOutputs(pool->config(), outputs, r.outputs);
    if (!s.ok()) {
      done(s);
      return;
    }
    r.model = std::move(model);
    r.version = std::to_string(pool->version());
    r.id = std::move(id);
    done(std::move(r));
  };
  // Pools live on the io thread; cross to it once.
  asio::post(io_, [pool, handle, pr = std::move(pr)]() mutable {
    handle->Bind(pool, pool->Submit(std::move(pr)));
  });
  return handle;
}

void InferenceCore::ReleaseInflight() {
  // Sequentially consistent with has_waiters_ (set before a waiter checks
  // the count): either the waiter sees the count at zero, or this sees it.
  if (inflight_.fetch_sub(1) == 1 && has_waiters_.load()) {
    asio::post(io_, [this] { RunWaiters(); });
  }
}

void InferenceCore::NotifyWhenIdle(std::function<void()> idle) {
  asio::post(io_, [this, idle = std::move(idle)]() mutable {
    waiters_.push_back({false, std::move(idle)});
    has_waiters_.store(true);
    RunWaiters();
  });
}

void InferenceCore::NotifyWhenStopped(std::function<void()> stopped) {
  asio::post(io_, [this, stopped = std::move(stopped)]() mutable {
    waiters_.push_back({true, std::move(stopped)});
    has_waiters_.store(true);
    RunWaiters();
  });
}

void InferenceCore::RunWaiters() {
  if (waiters_.empty()) return;
  const bool idle = inflight_.load() == 0;
  const bool stopped = idle && WorkerProcesses() == 0;
  std::vector<std::function<void()>> due;
  std::erase_if(waiters_, [&](Waiter& w) {
    if (!idle || (w.need_no_workers && !stopped)) return false;
    due.push_back(std::move(w.callback));
    return true;
  });
  has_waiters_.store(!waiters_.empty());
  for (auto& callback : due) callback();
}

}  // namespace modelgate
