#include "modelgate/inference_core.h"

#include <boost/asio/post.hpp>

#include "backend/pool/model_pool.h"
#include "backend/process/process_worker.h"
#include "server/request_validation.h"

namespace modelgate {

namespace asio = boost::asio;

InferenceCore::InferenceCore(asio::io_context& io, RuntimeSettings runtime,
                             std::vector<ModelEntry> models)
    : io_(io), runtime_(std::move(runtime)), reaper_(io) {
  for (auto& entry : models) {
    auto model = std::make_unique<Model>();
    model->config = std::move(entry.config);
    const ModelConfig& config = model->config;
    for (const auto& [version, dir] : entry.versions) {
      WorkerOptions options;
      options.model = config.name;
      options.version = std::to_string(version);
      options.startup_timeout = std::chrono::milliseconds(config.startup_timeout_ms);
      options.spawn = WorkerCommand(runtime_, {config.backend, dir, config.dataframe,
                                               config.interpreter, config.env});
      auto factory = [this, options](Worker::Listener* listener) -> std::shared_ptr<Worker> {
        return std::make_shared<ProcessWorker>(io_, reaper_, options, listener);
      };
      auto pool = std::make_unique<ModelPool>(io_, config, version, factory);
      pool->set_ready_observer([this, name = config.name](bool) {
        if (observer_) observer_(name);
      });
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

StatusOr<InferenceCore::Resolved> InferenceCore::Find(const std::string& name,
                                                      const std::string& version) const {
  auto it = models_.find(name);
  if (it == models_.end()) return NotFound("unknown model '" + name + "'");
  const Model& m = *it->second;
  Resolved r{&m.config, 0, {}, nullptr};
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
  r.pool = m.pools.at(r.version).get();
  return r;
}

size_t InferenceCore::WorkerProcesses() const {
  size_t n = 0;
  for (const auto& [name, m] : models_) {
    for (const auto& [v, pool] : m->pools) n += pool->worker_count();
  }
  return n;
}

bool InferenceCore::ModelReady(const Resolved& r) const { return r.pool->ready(); }

std::string InferenceCore::NotReadyReason(const Resolved& r) const {
  std::string e = r.pool->load_error();
  return e.empty() ? "no worker is ready yet" : e;
}

bool InferenceCore::ServerReady() const {
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

void InferenceCore::Infer(InferRequest request, InferCallback done) {
  auto found = Find(request.model, request.version);
  Status s = found.ok() ? Status::Ok() : found.status();
  if (s.ok()) s = ValidateInputs(*found->config, request.inputs);
  if (s.ok()) s = ValidateRequestedOutputs(*found->config, request.requested_outputs);
  if (!s.ok()) {
    asio::post(io_, [done = std::move(done), s] { done(s); });
    return;
  }
  // Pools live on the io thread; cross to it once.
  auto* pool = const_cast<ModelPool*>(found->pool);
  asio::post(io_, [pool, request = std::move(request), done = std::move(done)]() mutable {
    const std::string request_id = request.id;
    auto meta = std::make_shared<InferRequest>();
    meta->model = std::move(request.model);
    meta->id = std::move(request.id);
    meta->requested_outputs = std::move(request.requested_outputs);
    pool->Submit(std::move(request.inputs), request_id,
                 [pool, meta, done = std::move(done)](StatusOr<std::vector<Tensor>> result) {
                   if (!result.ok()) {
                     done(result.status());
                     return;
                   }
                   InferResponse r;
                   r.outputs = std::move(result).value();
                   Status s = ShapeOutputs(pool->config(), meta->requested_outputs, r.outputs);
                   if (!s.ok()) {
                     done(s);
                     return;
                   }
                   r.model = std::move(meta->model);
                   r.version = std::to_string(pool->version());
                   r.id = std::move(meta->id);
                   done(std::move(r));
                 });
  });
}

}  // namespace modelgate
