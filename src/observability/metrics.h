// Metrics: every Prometheus series the daemon exports, defined once here and
// listed in the README. prometheus-cpp holds the registry; Serialize() renders
// the text format, which the daemon's own HTTP stack serves on --metrics-port
// at /metrics (frontend/http/metrics_endpoint.h).
//
// Hot paths never look series up by name: each model version gets a
// ModelMetrics with every counter and histogram resolved at start-up
// (requests for every protocol x code pair, so rates start at 0). Gauges that
// describe state (queue depth, workers by state, breaker state, worker
// memory, worker pids) are read at scrape time (the caller passes the pool snapshot), and
// so are the daemon's process metrics.
//
// The request `code` label is the gRPC code name (OK, INVALID_ARGUMENT,
// NOT_FOUND, RESOURCE_EXHAUSTED, UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL,
// CANCELLED, ...) for both protocols, from status_map.h, so one query covers
// REST and gRPC. Requests for unknown models count under model="_unknown", so
// clients cannot grow the label set. Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/mutex.h"
#include "modelgate/authenticator.h"
#include "modelgate/inference_service.h"
#include "modelgate/model_statistics.h"
#include "modelgate/reject_reason.h"
#include "modelgate/status.h"
#include "modelgate/worker.h"
#include "observability/drift_monitor.h"

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
}  // namespace prometheus

namespace modelgate {

enum class Protocol { kHttp = 0, kGrpc = 1 };
inline constexpr size_t kNumStatusCodes = static_cast<size_t>(StatusCode::kCancelled) + 1;
inline constexpr std::array<DeathCause, 5> kRestartCauses = {
    DeathCause::kCrash, DeathCause::kTimeout, DeathCause::kRecycle, DeathCause::kMalformed,
    DeathCause::kStartFailed};

// The series of one model version, resolved once.
class ModelMetrics {
 public:
  void RecordRequest(Protocol protocol, StatusCode code, double seconds);
  void RecordQueueAndCompute(double queue_seconds, double compute_seconds);
  void RecordBatch(size_t requests);
  void RecordRestart(DeathCause cause);
  // A running call past its deadline was interrupted (the worker may stay).
  void RecordInterrupt();
  void RecordRejected(RejectReason reason);
  // A worker call that answered, serving `batch` requests (statistics'
  // batch_stats; the number of sizes is bounded by max_batch_size).
  void RecordExecution(size_t batch, double compute_seconds) EXCLUDES(batches_mu_);
  // modelgate_cache_{hits,misses,evictions}_total: series that exist only
  // for versions with a response cache (Metrics::EnableCache); no-ops before.
  void RecordCacheHit();
  void RecordCacheMiss();
  void RecordCacheEvictions(uint64_t n);

  // The statistics extension's counts (name and version left empty), read
  // from these series: success/fail from modelgate_requests_total and the
  // durations recorded with them, queue and compute from their histograms,
  // executions from modelgate_batch_size's count.
  ModelVersionStats Statistics() const EXCLUDES(batches_mu_);

 private:
  friend class Metrics;
  // Recorded by RecordRequest beside the series, for Statistics(): the
  // request duration histogram is by protocol, not by outcome.
  std::atomic<uint64_t> success_ns_{0};
  std::atomic<uint64_t> fail_ns_{0};
  std::atomic<uint64_t> last_request_ms_{0};  // system clock, ms since the epoch
  mutable Mutex batches_mu_;
  std::map<size_t, DurationStat> batches_ GUARDED_BY(batches_mu_);
  std::array<std::array<prometheus::Counter*, kNumStatusCodes>, 2> requests_{};
  std::array<prometheus::Histogram*, 2> request_duration_{};
  prometheus::Histogram* queue_duration_ = nullptr;
  prometheus::Histogram* compute_duration_ = nullptr;
  prometheus::Histogram* batch_size_ = nullptr;
  std::array<prometheus::Counter*, kRestartCauses.size()> restarts_{};
  prometheus::Counter* interrupts_ = nullptr;
  std::array<prometheus::Counter*, kRejectReasonCount> rejected_{};  // by RejectReason
  // Hits, misses, evictions; set once by EnableCache while requests may run.
  std::array<std::atomic<prometheus::Counter*>, 3> cache_{};
};

// State of one model version at scrape time.
struct PoolSnapshot {
  std::string model;
  std::string version;
  size_t queue_depth = 0;
  size_t inflight = 0;                           // queued + running
  std::array<int, kWorkerStateCount> workers{};  // by WorkerState
  int breaker_state = 0;                         // 0 closed, 1 open, 2 half-open
  int64_t worker_memory_bytes = 0;               // RSS summed over the version's workers
  // Live worker pids in slot order (ModelPool::WorkerPids), and the
  // configured worker count: modelgate_worker_pid has a slot per worker.
  std::vector<int> worker_pids;
  int worker_slots = 0;
  // modelgate_model_state (unset: the version is not live).
  std::optional<ModelState> state;
  // modelgate_model_info: one series per fingerprint live for this version
  // (two while a replaced one drains).
  std::vector<std::string> fingerprints;
  // modelgate_input_drift_*: one per monitored input (empty without "drift").
  std::vector<DriftSeries> drift;
};

class Metrics {
 public:
  Metrics();
  ~Metrics();

  // The series of a model version; created on first use (at start-up).
  ModelMetrics& ForModel(const std::string& model, const std::string& version) EXCLUDES(mu_);
  ModelMetrics& Unknown() { return ForModel("_unknown", ""); }
  // Creates the response-cache series of a model version (idempotent).
  void EnableCache(const std::string& model, const std::string& version) EXCLUDES(mu_);

  // The Prometheus text exposition (format 0.0.4) of every series: the
  // registry, the daemon's process metrics and the state in `pools`. Any
  // thread.
  std::string Serialize(const std::vector<PoolSnapshot>& pools) const;

  // modelgate_model_loads_total{model,version,result}: a version loaded by a
  // load or poll (result success or failure; version "" when the model's
  // config could not be read). Model names come from the repository.
  void RecordModelLoad(const std::string& model, const std::string& version, bool ok);

  // modelgate_auth_failures_total{reason}: a denied bearer-token check.
  void RecordAuthFailure(AuthResult result);

 private:
  struct Families;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Families> families_;
  std::array<prometheus::Counter*, kAuthFailureReasons.size()> auth_failures_{};
  Mutex mu_;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<ModelMetrics>> models_
      GUARDED_BY(mu_);
};

}  // namespace modelgate
