// InferenceCore: the models a daemon serves, behind the InferenceService
// interface both front ends call. Owns every ModelPool; routes a request to a
// model version, validates it, queues it, and answers through the callback.
//
// Threading: Infer(), Find(), Ready() and the metadata calls may be used from
// any thread (the registry is immutable after construction; readiness is
// atomic). Start(), Stop() and every pool operation run on the io thread.
// NotifyWhenIdle / NotifyWhenStopped may be called from any thread; their
// callbacks run on the io thread.
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
#include "common/asio_time_source.h"
#include "common/limits.h"
#include "modelgate/inference.h"
#include "modelgate/inference_service.h"
#include "modelgate/model_repository.h"
#include "modelgate/worker.h"
#include "observability/metrics.h"

namespace modelgate {

class ModelPool;

class InferenceCore final : public InferenceService {
 public:
  // Told on the io thread when a model's readiness may have changed; the
  // observer re-reads ModelReady / ServerReady.
  using ReadyObserver = std::function<void(const std::string& model)>;

  // `metrics` may be null (tests); it must outlive the core.
  InferenceCore(boost::asio::io_context& io, RuntimeSettings runtime,
                std::vector<ModelEntry> models, Metrics* metrics = nullptr);
  ~InferenceCore() override;

  // Posts worker start-up onto the io thread.
  void Start();
  // On the io thread: answers queued requests with 503, stops workers.
  void Stop(std::chrono::milliseconds grace);

  // Answers through `done` exactly once, on the io thread. At most
  // `max_inflight` requests are in flight daemon-wide; beyond it: 429.
  std::shared_ptr<InferHandle> Infer(InferRequest request, InferCallback done) override;
  void set_max_inflight(int64_t n) { max_inflight_ = n; }
  int64_t inflight() const { return inflight_.load(std::memory_order_relaxed); }
  // The clock and timers of the pools and workers; the front ends date
  // deadlines and latencies by it too.
  const TimeSource& time() const { return time_; }

  // Worker processes not yet reaped, across all models. io thread only.
  size_t WorkerProcesses() const;
  // State of every model version, for the metrics scrape. io thread only.
  std::vector<PoolSnapshot> Snapshot();

  // Repository extension, io thread only: unload stops every version's
  // workers (requests get 503 "unloaded"); load starts them again.
  Status SetLoaded(const std::string& model, bool loaded) override;

  StatusOr<ModelTarget> Find(const std::string& model, const std::string& version) const override;
  // Infer for a model version a front end has already found.
  std::shared_ptr<InferHandle> Infer(const ModelTarget& target, InferRequest request,
                                     InferCallback done) override;
  bool ModelReady(const ModelTarget& target) const override;
  std::string NotReadyReason(const ModelTarget& target) const override;

  // True while every required model has a ready worker (and not shutting down).
  bool ServerReady() const override;
  // From now on readiness is false and new requests get 503. Any thread.
  void BeginShutdown() { shutting_down_.store(true); }
  std::vector<ModelStatus> Index() const override;
  std::vector<std::string> ModelNames() const override;

  void set_ready_observer(ReadyObserver o) { observer_ = std::move(o); }

  // Runs `idle` once, on the io thread, as soon as no request is in flight
  // (at once if none is). For draining: call after BeginShutdown, so that no
  // new request can start after it ran.
  void NotifyWhenIdle(std::function<void()> idle);
  // Runs `stopped` once, on the io thread, as soon as no request is in
  // flight and every worker process has been reaped (after Stop()).
  void NotifyWhenStopped(std::function<void()> stopped);

 private:
  struct Model {
    ModelConfig config;
    // Forwards each worker's events to its pool, then lets the core re-check
    // NotifyWhenStopped (one per version; declared first, so it outlives the
    // pool and its workers).
    std::map<int64_t, std::unique_ptr<Worker::Listener>> listeners;
    std::map<int64_t, std::unique_ptr<ModelPool>> pools;
    std::map<int64_t, ModelMetrics*> metrics;
  };
  class WorkerEvents;
  struct Waiter {
    bool need_no_workers;  // NotifyWhenStopped; else NotifyWhenIdle
    std::function<void()> callback;
  };

  // The pool of a version Find returned.
  ModelPool& PoolOf(const ModelTarget& target) const;
  // Ends a request's hold on the in-flight count. Any thread.
  void ReleaseInflight();
  // Runs the waiters whose condition holds. io thread.
  void RunWaiters();

  boost::asio::io_context& io_;
  AsioTimeSource time_;  // pools, workers and deadlines; outlives the pools
  RuntimeSettings runtime_;
  ChildReaper reaper_;
  std::map<std::string, std::unique_ptr<Model>> models_;
  ReadyObserver observer_;
  Metrics* metrics_;
  int64_t max_inflight_ = kDefaultMaxInflight;
  std::atomic<int64_t> inflight_{0};
  std::atomic<bool> shutting_down_{false};
  std::vector<Waiter> waiters_;  // io thread only
  // Whether waiters_ may be non-empty, so the hot path posts nothing
  // without a waiter.
  std::atomic<bool> has_waiters_{false};
};

}  // namespace modelgate
