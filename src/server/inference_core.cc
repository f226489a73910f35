#include "server/inference_core.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cctype>
#include <map>
#include <optional>
#include <tuple>

#include "backend/pool/model_pool.h"
#include "backend/process/process_worker.h"
#include "common/retry_after.h"
#include "modelgate/log_event.h"
#include "server/request_validation.h"
#include "server/traffic_split.h"

namespace modelgate {

namespace asio = boost::asio;

// The pool-side half of an InferHandle: set on the io thread once queued.
class CorePoolHandle final : public InferHandle,
                             public std::enable_shared_from_this<CorePoolHandle> {
 public:
  explicit CorePoolHandle(asio::io_context& io) : io_(io) {}
  void Cancel() override {
    if (cancelled_.exchange(true)) return;
    asio::post(io_, [self = shared_from_this()] {
      // A drained version's pool is gone, and with it the request.
      if (self->served_ && self->served_->pool) self->served_->pool->Cancel(self->ticket_);
    });
  }
  // io thread: the request is queued in `served`'s pool as `ticket`.
  void Bind(ServedPtr served, uint64_t ticket) {
    served_ = std::move(served);
    ticket_ = ticket;
    if (cancelled_.load()) served_->pool->Cancel(ticket);
  }

 private:
  asio::io_context& io_;
  std::atomic<bool> cancelled_{false};
  ServedPtr served_;  // io thread only
  uint64_t ticket_ = 0;
};

// What a request carries from Infer to its pool: enough to re-route it when
// its version was replaced in between.
struct InferenceCore::Pending {
  std::shared_ptr<CorePoolHandle> handle;
  InferRequest request;
  InferCallback done;
  std::optional<std::string> cache_key;  // a cacheable miss: its answer is kept
  uint64_t cache_generation = 0;         // of that miss (ResponseCache::Insert)
};

WorkerOptions VersionWorkerOptions(const RuntimeSettings& runtime, const std::string& model,
                                   const VersionEntry& v) {
  const ModelConfig& config = v.config;
  WorkerOptions options;
  options.model = model;
  options.version = std::to_string(v.version);
  options.fingerprint = v.fingerprint;
  options.startup_timeout = std::chrono::milliseconds(config.startup_timeout_ms);
  options.spawn = WorkerCommand(runtime, {.backend = config.backend,
                                          .version_dir = v.dir,
                                          .dataframe = config.dataframe,
                                          .interpreter = config.interpreter,
                                          .env = config.env,
                                          .python_path = config.python_path,
                                          .r_libs = config.r_libs});
  // modelgate-worker turns SIGINT into an interrupt of the running call; a
  // model's own "interpreter" program may not, and could die of it.
  options.interruptible = config.interpreter.empty();
  options.spawn.limits = config.limits;
  // What config.json declares; the worker's Hello signature must agree.
  options.declared =
      ModelSignature{config.inputs, config.outputs, config.dataframe, config.source_file};
  options.code_file = config.backend == Backend::kR ? "model.R" : "model.py";
  return options;
}

InferenceCore::InferenceCore(asio::io_context& io, RuntimeSettings runtime,
                             std::vector<ModelEntry> models, Metrics* metrics,
                             LifecycleOptions lifecycle)
    : io_(io),
      time_(io),
      runtime_(std::move(runtime)),
      lifecycle_(std::move(lifecycle)),
      reaper_(io),
      metrics_(metrics) {
  MutexLock lock(mu_);
  for (auto& entry : models) {
    auto slot = std::make_shared<ModelSlot>();
    slot->traffic = entry.config.traffic;
    slot->unserved = entry.unserved;
    slot->required = entry.config.required;
    if (auto sig = lifecycle_.initial_signatures.find(entry.config.name);
        sig != lifecycle_.initial_signatures.end()) {
      slot->signature = sig->second;
    } else if (!lifecycle_.repository.empty()) {
      slot->signature = StatSignature(lifecycle_.repository + "/" + entry.config.name);
    }
    for (const auto& [version, v] : entry.versions) {
      ServedPtr served = MakeVersion(entry.config.name, v);
      served->phase = ServedVersion::Phase::kServing;
      slot->serving.emplace(version, std::move(served));
    }
    models_.emplace(entry.config.name, std::move(slot));
    ClaimSnapshots(entry);
  }
}

InferenceCore::~InferenceCore() {
  files_.join();
  MutexLock lock(mu_);
  // Workers are reaped by now (Server::Stop waits for it); detach anyway.
  for (auto& served : live_) {
    if (served->events) served->events->set_pool(nullptr);
  }
}

ServedPtr InferenceCore::MakeVersion(const std::string& model, const VersionEntry& v) {
  auto served = std::make_shared<ServedVersion>();
  served->model = model;
  served->version = v.version;
  served->config = v.config;
  served->config.name = model;
  served->fingerprint = v.fingerprint;
  served->dir = v.dir;
  if (v.drift) {
    served->drift =
        std::make_unique<DriftMonitor>(v.drift, static_cast<size_t>(v.config.drift.window));
  }
  const ModelConfig& config = served->config;
  const WorkerOptions options = VersionWorkerOptions(runtime_, model, v);
  // The workers report to `forward`, which passes it on to the pool's
  // supervisor (the listener the pool hands the factory). `served` owns
  // `forward`, so the raw pointer outlives every call.
  auto forward = std::make_unique<VersionEvents>(
      [this] {
        if (has_waiters_.load()) asio::post(io_, [this] { RunWaiters(); });
      },
      [s = served.get()](const ModelSignature& sig) { s->PublishSignature(sig); });
  auto factory = [this, options,
                  forward = forward.get()](Worker::Listener* pool) -> std::shared_ptr<Worker> {
    forward->set_pool(pool);
    if (lifecycle_.worker_factory) return lifecycle_.worker_factory(options, forward);
    return std::make_shared<ProcessWorker>(io_, reaper_, time_, options, forward);
  };
  served->events = std::move(forward);
  served->pool = std::make_unique<ModelPool>(io_, config, v.version, factory, time_);
  PoolEvents events;
  events.changed = [this, model] {
    if (observer_) observer_(model);
  };
  if (metrics_) {
    ModelMetrics* mm = &metrics_->ForModel(model, std::to_string(v.version));
    served->metrics = mm;
    events.rejected = [mm](RejectReason reason) { mm->RecordRejected(reason); };
    events.worker_restarted = [mm](DeathCause cause) { mm->RecordRestart(cause); };
    events.worker_interrupted = [mm] { mm->RecordInterrupt(); };
    events.dispatched = [mm](size_t batch) { mm->RecordBatch(batch); };
    events.completed = [mm](double queued, double computed) {
      mm->RecordQueueAndCompute(queued, computed);
    };
    events.executed = [mm](size_t batch, double computed) { mm->RecordExecution(batch, computed); };
  }
  served->pool->set_events(std::move(events));
  if (config.response_cache.enabled) {
    if (metrics_) metrics_->EnableCache(model, std::to_string(v.version));
    served->cache = std::make_unique<ResponseCache>(config.response_cache, served->metrics);
  }
  live_.push_back(served);
  return served;
}

void InferenceCore::Start() {
  asio::post(io_, [this] {
    std::vector<ServedPtr> all;
    {
      MutexLock lock(mu_);
      all = live_;
    }
    for (auto& served : all) served->pool->Start();
    if (lifecycle_.mode == ControlMode::kPoll) SchedulePoll();
  });
}

void InferenceCore::Stop(std::chrono::milliseconds grace) {
  if (poll_timer_) poll_timer_->Disable();
  // Loads in progress are answered now; their new pools stop with the rest.
  std::vector<std::string> loading;
  for (const auto& [name, op] : loads_) loading.push_back(name);
  for (const auto& name : loading) FinishLoad(name, Unavailable("the server is shutting down"));
  std::vector<ServedPtr> all;
  {
    MutexLock lock(mu_);
    all = live_;
  }
  for (auto& served : all) {
    if (served->pool) served->pool->Stop(grace, "shutting down");
  }
}

ServedPtr InferenceCore::Served(const ModelTarget& target) {
  return std::const_pointer_cast<ServedVersion>(
      std::static_pointer_cast<const ServedVersion>(target.hold));
}

StatusOr<ServedPtr> InferenceCore::Route(const std::string& name, const ModelSlot& slot,
                                         const std::string& version,
                                         const std::string& route_key) const {
  if (slot.serving.empty()) {
    if (!slot.unloaded.empty()) {
      return Unavailable("model '" + name + "' is unloaded (POST /v2/repository/models/" + name +
                         "/load serves it again)");
    }
    return Unavailable("model '" + name + "' has no version loaded yet")
        .WithRetryAfter(kRetryAfterSeconds);
  }
  if (version.empty()) {
    if (slot.traffic.empty()) return slot.serving.rbegin()->second;
    const int64_t v = PickVersion(slot.traffic, route_key, route_sequence_.fetch_add(1));
    auto it = slot.serving.find(v);
    return it != slot.serving.end() ? it->second : slot.serving.rbegin()->second;
  }
  char* end = nullptr;
  const long long v = std::strtoll(version.c_str(), &end, 10);
  if (end == version.c_str() || *end != '\0' || v <= 0) {
    return InvalidArgument("model version '" + version + "' is not a positive integer");
  }
  auto it = slot.serving.find(v);
  if (it != slot.serving.end()) return it->second;
  for (int64_t u : slot.unserved) {
    if (u == v) {
      return NotFound("model '" + name + "' version " + version +
                      " is not served (outside its version_policy)");
    }
  }
  return NotFound("model '" + name + "' has no version " + version);
}

StatusOr<ModelTarget> InferenceCore::Find(const std::string& name, const std::string& version,
                                          const std::string& route_key) const {
  MutexLock lock(mu_);
  auto it = models_.find(name);
  if (it == models_.end()) return NotFound("unknown model '" + name + "'");
  auto served = Route(name, *it->second, version, route_key);
  if (!served.ok()) return served.status();
  ModelTarget r;
  r.config = &(*served)->served_config();
  r.hold = *served;
  r.version = (*served)->version;
  r.fingerprint = (*served)->fingerprint;
  r.metrics = (*served)->metrics;
  for (const auto& [v, s] : it->second->serving) r.versions.push_back(v);
  return r;
}

size_t InferenceCore::WorkerProcesses() const {
  MutexLock lock(mu_);
  size_t n = 0;
  for (const auto& served : live_) {
    if (served->pool) n += served->pool->worker_count();
  }
  return n;
}

namespace {

// The state a version shows in the index and in modelgate_model_state.
ModelState StateOf(const ServedVersion& served) {
  switch (served.phase.load()) {
    case ServedVersion::Phase::kLoading:
      return ModelState::kLoading;
    case ServedVersion::Phase::kDraining:
      return ModelState::kDraining;
    case ServedVersion::Phase::kServing:
      break;
  }
  return served.pool && served.pool->ready() ? ModelState::kReady : ModelState::kUnavailable;
}

// Which state a (model, version) reports when several generations are live:
// the serving one (ready or not), else a loading one, else a draining one.
int StateRank(ModelState state) {
  return state == ModelState::kReady ? static_cast<int>(ModelState::kUnavailable)
                                     : static_cast<int>(state);
}

}  // namespace

std::vector<PoolSnapshot> InferenceCore::Snapshot() {
  std::map<std::pair<std::string, int64_t>, PoolSnapshot> merged;
  MutexLock lock(mu_);
  for (const auto& served : live_) {
    if (!served->pool) continue;
    const ModelPool& pool = *served->pool;
    PoolSnapshot& s = merged[{served->model, served->version}];
    s.model = served->model;
    s.version = std::to_string(served->version);
    s.queue_depth += pool.queue_depth();
    s.inflight += pool.queue_depth() + pool.running();
    const auto states = pool.WorkerStates();
    for (size_t i = 0; i < states.size(); ++i) s.workers[i] += states[i];
    s.worker_memory_bytes += pool.WorkerRssBytes();
    for (int pid : pool.WorkerPids()) s.worker_pids.push_back(pid);
    if (!served->fingerprint.empty()) s.fingerprints.push_back(served->fingerprint);
    const ModelState state = StateOf(*served);
    if (!s.state || StateRank(state) > StateRank(*s.state)) {
      s.state = state;
      s.worker_slots = pool.config().workers;
      s.breaker_state = static_cast<int>(served->pool->breaker_state());
      s.drift = served->drift ? served->drift->Collect() : std::vector<DriftSeries>{};
    }
  }
  for (const auto& [name, slot] : models_) {
    for (int64_t v : slot->unloaded) {
      PoolSnapshot& s = merged[{name, v}];
      if (s.state) continue;
      s.model = name;
      s.version = std::to_string(v);
      s.state = ModelState::kUnloaded;
    }
  }
  std::vector<PoolSnapshot> out;
  out.reserve(merged.size());
  for (auto& [key, s] : merged) {
    std::sort(s.fingerprints.begin(), s.fingerprints.end());
    s.fingerprints.erase(std::unique(s.fingerprints.begin(), s.fingerprints.end()),
                         s.fingerprints.end());
    out.push_back(std::move(s));
  }
  return out;
}

bool InferenceCore::ModelReady(const ModelTarget& target) const {
  ServedPtr served = Served(target);
  MutexLock lock(mu_);
  return served && served->pool && served->phase == ServedVersion::Phase::kServing &&
         served->pool->ready();
}

std::string InferenceCore::NotReadyReason(const ModelTarget& target) const {
  ServedPtr served = Served(target);
  MutexLock lock(mu_);
  if (!served || !served->pool) return "this version was replaced or unloaded";
  std::string e = served->pool->load_error();
  return e.empty() ? "no worker is ready yet" : e;
}

bool InferenceCore::ServerReady() const {
  if (shutting_down_.load()) return false;
  MutexLock lock(mu_);
  for (const auto& [name, slot] : models_) {
    if (!slot->required) continue;
    for (const auto& [v, served] : slot->serving) {
      if (!served->pool || !served->pool->ready()) return false;
    }
  }
  return true;
}

std::vector<ModelStatus> InferenceCore::Index() const {
  std::vector<ModelStatus> out;
  MutexLock lock(mu_);
  for (const auto& served : live_) {
    if (!served->pool) continue;
    ModelStatus s{served->model, served->version, false, StateOf(*served), "", served->fingerprint};
    s.ready = s.state == ModelState::kReady;
    if (s.state == ModelState::kUnavailable) {
      s.reason = served->pool->load_error();
      if (s.reason.empty()) s.reason = "no worker is ready yet";
    }
    out.push_back(std::move(s));
  }
  for (const auto& [name, slot] : models_) {
    for (int64_t v : slot->unloaded) {
      out.push_back({name, v, false, ModelState::kUnloaded, "unloaded by request", ""});
    }
  }
  // By model and version; a version's serving generation first, then one
  // loading beside it, then those draining.
  std::sort(out.begin(), out.end(), [](const ModelStatus& a, const ModelStatus& b) {
    const int ra = -StateRank(a.state), rb = -StateRank(b.state);
    return std::tie(a.name, a.version, ra, a.fingerprint) <
           std::tie(b.name, b.version, rb, b.fingerprint);
  });
  return out;
}

StatusOr<std::vector<ModelVersionStats>> InferenceCore::Statistics(
    const std::string& model, const std::string& version) const {
  if (!metrics_) {
    return Unavailable("statistics are read from the metrics, which are off (--metrics=false)");
  }
  std::optional<int64_t> only_version;
  if (!model.empty()) {
    auto found = Find(model, version);
    if (!found.ok()) return found.status();
    if (!version.empty()) only_version = found->version;
  } else if (!version.empty()) {
    return InvalidArgument("statistics: a version needs a model name");
  }
  // One entry per model version: a draining generation shares its
  // version's series with the serving one.
  std::map<std::pair<std::string, int64_t>, const ModelMetrics*> series;
  {
    MutexLock lock(mu_);
    for (const auto& served : live_) {
      if (!served->metrics || (!model.empty() && served->model != model)) continue;
      if (only_version && served->version != *only_version) continue;
      series.emplace(std::make_pair(served->model, served->version), served->metrics);
    }
  }
  std::vector<ModelVersionStats> out;
  for (const auto& [key, metrics] : series) {
    ModelVersionStats s = metrics->Statistics();
    s.name = key.first;
    s.version = key.second;
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::string> InferenceCore::ModelNames() const {
  MutexLock lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, slot] : models_) out.push_back(name);
  return out;
}

namespace {

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

// Inputs are empty only while a version whose code declares them has no
// worker that reported them yet: nothing to check a request against.
Status SignatureKnown(const ModelConfig& config) {
  if (!config.inputs.empty()) return Status::Ok();
  return Unavailable("model '" + config.name +
                     "' declares its inputs in code and no worker has reported them yet")
      .WithRetryAfter(kRetryAfterSeconds);
}

}  // namespace

std::shared_ptr<InferHandle> InferenceCore::Infer(InferRequest request, InferCallback done) {
  auto found = Find(request.model, request.version, request.route_key);
  if (!found.ok()) {
    AnswerEarly(request.answer_inline, std::move(done), found.status());
    return std::make_shared<CorePoolHandle>(io_);
  }
  return Infer(*found, std::move(request), std::move(done));
}

std::shared_ptr<InferHandle> InferenceCore::Infer(const ModelTarget& target, InferRequest request,
                                                  InferCallback done) {
  auto handle = std::make_shared<CorePoolHandle>(io_);
  Status s = SignatureKnown(*target.config);
  if (s.ok()) s = ValidateInputs(*target.config, request.inputs);
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
    AnswerEarly(request.answer_inline, std::move(done), std::move(s));
    return handle;
  }
  ServedPtr served = Served(target);
  // Accepted: its inputs feed the version's drift windows here, on the
  // front end's thread, not on the io thread every pool shares. A cache
  // hit is live traffic too.
  if (served->drift) served->drift->Observe(request.inputs);
  std::optional<std::string> cache_key;
  uint64_t cache_generation = 0;
  if (served->cache && (cache_key = served->cache->KeyOf(request))) {
    if (auto outputs = served->cache->Lookup(*cache_key, time_.Now(), &cache_generation)) {
      // A hit never reaches a worker, the queue or the breaker.
      ReleaseInflight();
      InferResponse r;
      r.model = std::move(request.model);
      r.version = std::to_string(served->version);
      r.id = std::move(request.id);
      r.outputs = std::move(*outputs);
      AnswerEarly(request.answer_inline, std::move(done), std::move(r));
      return handle;
    }
  }
  auto p = std::make_unique<Pending>();
  p->handle = handle;
  p->request = std::move(request);
  p->done = std::move(done);
  p->cache_key = std::move(cache_key);
  p->cache_generation = cache_generation;
  // Pools live on the io thread; cross to it once.
  asio::post(io_, [this, served = std::move(served), p = std::move(p)]() mutable {
    Submit(std::move(served), std::move(p));
  });
  return handle;
}

void InferenceCore::AnswerEarly(bool inline_ok, InferCallback done,
                                StatusOr<InferResponse> answer) {
  if (inline_ok) {
    done(std::move(answer));
    return;
  }
  asio::post(io_, [done = std::move(done), answer = std::move(answer)]() mutable {
    done(std::move(answer));
  });
}

void InferenceCore::Submit(ServedPtr served, std::unique_ptr<Pending> p) {
  if (!served->pool || !served->pool->accepting()) {
    // Routed before a load or unload switched and the version drained: the
    // request goes where it would go now, checked against that config.
    StatusOr<ModelTarget> now = Find(p->request.model, p->request.version, p->request.route_key);
    Status s = now.ok() ? SignatureKnown(*now->config) : now.status();
    if (s.ok()) s = ValidateInputs(*now->config, p->request.inputs);
    if (s.ok()) s = ValidateRequestedOutputs(*now->config, p->request.requested_outputs);
    if (s.ok() && Served(*now) != served) {
      served = Served(*now);
    } else if (!s.ok()) {
      ReleaseInflight();
      p->done(s);
      return;
    }
    // Still this version (stopping for shutdown): its pool answers 503.
    if (!served->pool) {
      ReleaseInflight();
      p->done(Unavailable("model '" + served->model + "' version " +
                          std::to_string(served->version) + " was unloaded")
                  .WithRetryAfter(kRetryAfterSeconds));
      return;
    }
  }
  ModelPool* pool = served->pool.get();
  PoolRequest pr;
  const EffectiveDeadline deadline = DeadlineFor(served->config, p->request.deadline, time_.Now());
  pr.deadline = deadline.deadline;
  pr.client_shortened_deadline = deadline.client_shortened;
  pr.request_id = p->request.id;
  std::optional<int64_t> batch_rows;
  if (served->config.max_batch_size > 0 && !p->request.inputs.empty() &&
      !p->request.inputs[0].shape.empty()) {
    batch_rows = p->request.inputs[0].shape[0];
  }
  pr.inputs = std::move(p->request.inputs);
  pr.parameters = std::move(p->request.parameters);
  pr.done = [this, served, batch_rows, id = std::move(p->request.id),
             model = std::move(p->request.model), outputs = std::move(p->request.requested_outputs),
             cache_key = std::move(p->cache_key), cache_generation = p->cache_generation,
             done = std::move(p->done)](StatusOr<std::vector<Tensor>> result) mutable {
    ReleaseInflight();
    if (!result.ok()) {
      done(result.status());
      return;
    }
    InferResponse r;
    r.outputs = std::move(result).value();
    Status s = served->output_contract.Apply(served->served_config(), served->version, outputs,
                                             batch_rows, r.outputs);
    if (!s.ok()) {
      done(s);
      return;
    }
    // Only answers that passed the output contract are kept; the version that
    // answered keeps it (a redirected request's key holds for it too).
    if (cache_key && served->cache) {
      served->cache->Insert(std::move(*cache_key), r.outputs, time_.Now(), cache_generation);
    }
    r.model = std::move(model);
    r.version = std::to_string(served->version);
    r.id = std::move(id);
    done(std::move(r));
  };
  p->handle->Bind(served, pool->Submit(std::move(pr)));
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
