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

#include "backend/pool/model_pool.h"
#include "modelgate/model_config.h"
#include "modelgate/worker.h"
#include "observability/metrics.h"
#include "server/output_contract.h"
#include "server/response_cache.h"

namespace modelgate {

// Forwards a version's worker events to its pool, then runs `after_death`
// (the core re-checks its waiters: a death may be the last worker). io
// thread only.
class VersionEvents final : public Worker::Listener {
 public:
  explicit VersionEvents(std::function<void()> after_death)
      : after_death_(std::move(after_death)) {}
  // Null detaches: the pool is about to go.
  void set_pool(Worker::Listener* pool) { pool_ = pool; }
  void OnWorkerReady(Worker& worker) override {
    if (pool_) pool_->OnWorkerReady(worker);
  }
  void OnWorkerDead(Worker& worker, const Status& why, DeathCause cause) override {
    if (pool_) pool_->OnWorkerDead(worker, why, cause);
    after_death_();
  }

 private:
  std::function<void()> after_death_;
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
  ModelConfig config;
  std::string fingerprint;  // empty without snapshots (unit tests)
  std::string dir;          // what the workers load (the snapshot)
  ModelMetrics* metrics = nullptr;
  OutputContract output_contract;  // checks every answer of this version
  // Set at construction when the config has "response_cache"; else null.
  std::unique_ptr<ResponseCache> cache;

  std::atomic<Phase> phase{Phase::kLoading};
  // Forwards worker events to the pool; detached (pool null) before the pool
  // dies, so a late event from a worker that outlived it goes nowhere.
  std::unique_ptr<VersionEvents> events;
  std::unique_ptr<ModelPool> pool;
};

using ServedPtr = std::shared_ptr<ServedVersion>;

}  // namespace modelgate
