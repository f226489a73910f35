// InferenceCore: the models a daemon serves and the one entry point both
// front ends call. Owns every ModelPool; routes a request to a model version,
// validates it, queues it, and answers through the callback.
//
// Threading: Infer(), Find(), Ready() and the metadata calls may be used from
// any thread (the registry is immutable after construction; readiness is
// atomic). Start(), Stop() and every pool operation run on the io thread.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backend/process/child_reaper.h"
#include "backend/process/worker_command.h"
#include "common/limits.h"
#include "modelgate/inference.h"
#include "modelgate/model_repository.h"
#include "observability/metrics.h"

namespace modelgate {

class ModelPool;

struct ModelStatus {
  std::string name;
  int64_t version = 0;
  bool ready = false;
  std::string reason;  // why not ready, if known
};

class InferenceCore {
 public:
  // Told on the io thread when a model's readiness may have changed; the
  // observer re-reads ModelReady / ServerReady.
  using ReadyObserver = std::function<void(const std::string& model)>;

  // `metrics` may be null (tests); it must outlive the core.
  InferenceCore(boost::asio::io_context& io, RuntimeSettings runtime,
                std::vector<ModelEntry> models, Metrics* metrics = nullptr);
  ~InferenceCore();

  // Posts worker start-up onto the io thread.
  void Start();
  // On the io thread: answers queued requests with 503, stops workers.
  void Stop(std::chrono::milliseconds grace);

  // Answers through `done` exactly once, on the io thread. At most
  // `max_inflight` requests are in flight daemon-wide; beyond it: 429.
  std::shared_ptr<InferHandle> Infer(InferRequest request, InferCallback done);
  void set_max_inflight(int64_t n) { max_inflight_ = n; }
  int64_t inflight() const { return inflight_.load(std::memory_order_relaxed); }

  // Worker processes not yet reaped, across all models. io thread only.
  size_t WorkerProcesses() const;
  // State of every model version, for the metrics scrape. io thread only.
  std::vector<PoolSnapshot> Snapshot();

  // Repository extension, io thread only: unload stops every version's
  // workers (requests get 503 "unloaded"); load starts them again.
  Status SetLoaded(const std::string& model, bool loaded);

  // The model version a request names: NOT_FOUND for an unknown model or
  // version, INVALID_ARGUMENT for a version that is not a number.
  struct Resolved {
    const ModelConfig* config;
    int64_t version;
    std::vector<int64_t> versions;  // every version of the model, ascending
    const ModelPool* pool;
    ModelMetrics* metrics;  // null without Metrics
  };
  StatusOr<Resolved> Find(const std::string& model, const std::string& version) const;
  // Infer for a model version a front end has already found.
  std::shared_ptr<InferHandle> Infer(const Resolved& target, InferRequest request,
                                     InferCallback done);
  bool ModelReady(const Resolved& r) const;
  std::string NotReadyReason(const Resolved& r) const;

  // True while every required model has a ready worker (and not shutting down).
  bool ServerReady() const;
  // From now on readiness is false and new requests get 503. Any thread.
  void BeginShutdown() { shutting_down_.store(true); }
  std::vector<ModelStatus> Index() const;
  std::vector<std::string> ModelNames() const;

  void set_ready_observer(ReadyObserver o) { observer_ = std::move(o); }

 private:
  struct Model {
    ModelConfig config;
    std::map<int64_t, std::unique_ptr<ModelPool>> pools;
    std::map<int64_t, ModelMetrics*> metrics;
  };

  boost::asio::io_context& io_;
  RuntimeSettings runtime_;
  ChildReaper reaper_;
  std::map<std::string, std::unique_ptr<Model>> models_;
  ReadyObserver observer_;
  Metrics* metrics_;
  int64_t max_inflight_ = kDefaultMaxInflight;
  std::atomic<int64_t> inflight_{0};
  std::atomic<bool> shutting_down_{false};
};

}  // namespace modelgate
