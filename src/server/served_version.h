// ServedVersion: one model version as the core serves it: its effective
// config, its fingerprint, and the pool of workers running exactly that
// content. A load that changes a version builds a new ServedVersion beside
// the old one and switches routing to it; the old one drains and its pool is
// destroyed once its workers are reaped. A ModelTarget holds its
// ServedVersion (ModelTarget::hold), so the config a front end reads stays
// valid however long a request takes.
//
// Threading: the fields set at construction are immutable. `pool` and
// `events` are created and destroyed on the io thread, and read elsewhere
// only under the core's registry mutex (which is held while `pool` is reset).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "backend/pool/model_pool.h"
#include "modelgate/model_config.h"
#include "modelgate/worker.h"
#include "observability/drift_monitor.h"
#include "observability/metrics.h"
#include "server/output_contract.h"
#include "server/response_cache.h"

namespace modelgate {

// Forwards a version's worker events to its pool, then runs `after_death`
// (the core re-checks its waiters: a death may be the last worker). The
// first ready worker's signature goes to `on_signature` (once) before the
// pool hears of the worker, so the version's metadata is known before its
// load completes and before any request reaches a worker. io thread only.
class VersionEvents final : public Worker::Listener {
 public:
  using SignatureSink = std::function<void(const ModelSignature&)>;
  explicit VersionEvents(std::function<void()> after_death, SignatureSink on_signature = {})
      : after_death_(std::move(after_death)), on_signature_(std::move(on_signature)) {}
  // Null detaches: the pool is about to go.
  void set_pool(Worker::Listener* pool) { pool_ = pool; }
  void OnWorkerReady(Worker& worker) override {
    if (on_signature_) {
      if (auto sig = worker.signature()) std::exchange(on_signature_, nullptr)(*sig);
    }
    if (pool_) pool_->OnWorkerReady(worker);
  }
  void OnWorkerDead(Worker& worker, const Status& why, DeathCause cause) override {
    if (pool_) pool_->OnWorkerDead(worker, why, cause);
    after_death_();
  }

 private:
  std::function<void()> after_death_;
  SignatureSink on_signature_;
  Worker::Listener* pool_ = nullptr;  // set before the first worker exists
};

struct ServedVersion {
  enum class Phase {
    kLoading,   // workers starting and warming up; not routed to
    kServing,   // routed to
    kDraining,  // replaced or unloaded: finishing its requests
  };

  std::string model;
  int64_t version = 0;
  ModelConfig config;       // config.json's
  std::string fingerprint;  // empty without snapshots (unit tests)
  std::string dir;          // what the workers load (the snapshot)
  ModelMetrics* metrics = nullptr;
  OutputContract output_contract;  // checks every answer of this version
  // Set at construction when the config has "response_cache"; else null.
  std::unique_ptr<ResponseCache> cache;

  // Input drift (config "drift"); null without it, so unmonitored models pay
  // one null check per request.
  std::unique_ptr<DriftMonitor> drift;

  // The config the version serves: `config` with the signature its first
  // worker reported (config.json's merged with its code's, see
  // hello_signature.h). Until then `config` itself, whose inputs are empty
  // when only the code declares them. Any thread.
  const ModelConfig& served_config() const {
    const ModelConfig* e = effective_.load(std::memory_order_acquire);
    return e ? *e : config;
  }
  // Sets served_config() from `signature`, once (later calls change
  // nothing: every worker of a version runs the same code). io thread.
  void PublishSignature(const ModelSignature& signature) {
    if (effective_.load(std::memory_order_relaxed)) return;
    auto e = std::make_unique<ModelConfig>(config);
    e->inputs = signature.inputs;
    e->outputs = signature.outputs;
    e->dataframe = signature.dataframe;
    effective_storage_ = std::move(e);
    effective_.store(effective_storage_.get(), std::memory_order_release);
  }

  std::atomic<Phase> phase{Phase::kLoading};
  // Forwards worker events to the pool; detached (pool null) before the pool
  // dies, so a late event from a worker that outlived it goes nowhere.
  std::unique_ptr<VersionEvents> events;
  std::unique_ptr<ModelPool> pool;

 private:
  // Written once, before effective_ points at it; never freed before the version.
  std::unique_ptr<const ModelConfig> effective_storage_;
  std::atomic<const ModelConfig*> effective_{nullptr};
};

using ServedPtr = std::shared_ptr<ServedVersion>;

}  // namespace modelgate
