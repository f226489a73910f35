// InferenceCore: the models a daemon serves, behind the InferenceService
// interface both front ends call. Holds the live registry of served versions
// (ServedVersion, each with its ModelPool); routes a request to a version
// (by version, traffic weights or route key), validates it, queues it, and
// answers through the callback. The model lifecycle (load as swap-and-drain,
// unload, repository polling, SIGHUP rescans) is in model_lifecycle.cc.
//
// Threading: Find, Infer, the readiness and metadata calls, LoadModel,
// UnloadModel and Rescan may be used from any thread (the registry is behind
// mu_; pools are only touched on the io thread). Start(), Stop() and every
// pool operation run on the io thread. NotifyWhenIdle / NotifyWhenStopped may
// be called from any thread; their callbacks run on the io thread.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backend/process/child_reaper.h"
#include "backend/process/process_worker.h"
#include "backend/process/worker_command.h"
#include "common/asio_time_source.h"
#include "common/limits.h"
#include "common/mutex.h"
#include "modelgate/inference.h"
#include "modelgate/inference_service.h"
#include "modelgate/model_repository.h"
#include "modelgate/worker.h"
#include "observability/metrics.h"
#include "server/served_version.h"

namespace modelgate {

enum class ControlMode { kNone, kExplicit, kPoll };

// Where models come from and how they may change while serving.
struct LifecycleOptions {
  ControlMode mode = ControlMode::kNone;
  std::string repository;     // root scanned by loads and polls
  std::string snapshot_root;  // where version snapshots go; empty: no snapshots
  std::chrono::seconds poll_period{5};
  // StatSignature of each model directory taken before the startup scan, so
  // an edit made during it shows at the first poll. Missing: taken at start.
  std::map<std::string, std::string> initial_signatures;
  // Makes a version's workers; empty: a ProcessWorker (unit tests pass fakes).
  std::function<std::shared_ptr<Worker>(const WorkerOptions&, Worker::Listener*)> worker_factory;
};

// Copies every served version of `entry` under `snapshot_root` and points
// VersionEntry::dir and ::fingerprint at the copy.
Status SnapshotEntry(ModelEntry& entry, const std::string& snapshot_root);

// How a version's workers are started (command, environment, limits,
// startup timeout): the daemon's pools and `modelgate check` use this.
WorkerOptions VersionWorkerOptions(const RuntimeSettings& runtime, const std::string& model,
                                   const VersionEntry& v);

class InferenceCore final : public InferenceService {
 public:
  // Told on the io thread when a model's readiness may have changed; the
  // observer re-reads ModelReady / ServerReady.
  using ReadyObserver = std::function<void(const std::string& model)>;

  // A replaced or unloaded version's idle workers get EOF, then SIGTERM
  // after this, SIGKILL after twice this.
  static constexpr std::chrono::seconds kDrainStopGrace{2};

  // `models` were scanned (and snapshotted) by the caller. `metrics` may be
  // null (tests); it must outlive the core.
  InferenceCore(boost::asio::io_context& io, RuntimeSettings runtime,
                std::vector<ModelEntry> models, Metrics* metrics = nullptr,
                LifecycleOptions lifecycle = {});
  ~InferenceCore() override;

  // Posts worker start-up (and the first poll) onto the io thread.
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

  void LoadModel(const std::string& model, std::optional<std::string> config_json,
                 RepositoryDone done) override;
  void UnloadModel(const std::string& model, RepositoryDone done) override;
  // Applies what changed in the repository since the last scan (new,
  // removed and changed models), as a poll does. Not in control mode none.
  void Rescan();
  ControlMode control_mode() const { return lifecycle_.mode; }

  StatusOr<ModelTarget> Find(const std::string& model, const std::string& version,
                             const std::string& route_key = {}) const override;
  // Infer for a model version a front end has already found.
  std::shared_ptr<InferHandle> Infer(const ModelTarget& target, InferRequest request,
                                     InferCallback done) override;
  bool ModelReady(const ModelTarget& target) const override;
  std::string NotReadyReason(const ModelTarget& target) const override;

  // True while every required, loaded model has a ready worker in each
  // served version (and not shutting down).
  bool ServerReady() const override;
  // From now on readiness is false and new requests get 503. Any thread.
  void BeginShutdown() { shutting_down_.store(true); }
  std::vector<ModelStatus> Index() const override;
  std::vector<std::string> ModelNames() const override;
  StatusOr<std::vector<ModelVersionStats>> Statistics(const std::string& model,
                                                      const std::string& version) const override;

  void set_ready_observer(ReadyObserver o) { observer_ = std::move(o); }

  // Runs `idle` once, on the io thread, as soon as no request is in flight
  // (at once if none is). For draining: call after BeginShutdown, so that no
  // new request can start after it ran.
  void NotifyWhenIdle(std::function<void()> idle);
  // Runs `stopped` once, on the io thread, as soon as no request is in
  // flight and every worker process has been reaped (after Stop()).
  void NotifyWhenStopped(std::function<void()> stopped);

 private:
  // A model name's routing state. The routing fields are read under mu_
  // from any thread and written under mu_ on the io thread.
  struct ModelSlot {
    std::map<int64_t, ServedPtr> serving;  // the versions requests go to
    std::map<int64_t, int64_t> traffic;    // empty: the highest serving version
    std::vector<int64_t> unserved;         // on disk, outside the version policy
    std::vector<int64_t> unloaded;         // versions served before an unload
    bool required = true;
    // io thread only: the StatSignature of the model's directory at the last
    // scan, so a poll reloads only what changed (a failed load too).
    std::string signature;
  };
  // A model directory as a load read it (off the io thread).
  struct ScannedModel {
    ModelEntry entry;
    std::string signature;
  };
  // A load in progress for one model (io thread only).
  struct LoadOp {
    uint64_t id = 0;  // results of an earlier, ended load are told apart by it
    std::vector<RepositoryDone> waiters;
    // Loads requested while this one runs: they get a scan that starts after
    // they arrived, run as one load once this one is answered (a load with
    // unchanged content keeps its workers, so no second set starts).
    std::vector<std::pair<std::optional<std::string>, RepositoryDone>> followups;
    std::optional<ScannedModel> scanned;
    std::map<int64_t, ServedPtr> next;  // the serving map after the switch
    std::vector<ServedPtr> started;     // the new versions among them
    size_t outstanding = 0;             // started versions not yet loaded
    Status error;                       // the first failure
  };
  struct Waiter {
    bool need_no_workers;  // NotifyWhenStopped; else NotifyWhenIdle
    std::function<void()> callback;
  };
  // A request on its way to a pool (io thread).
  struct Pending;

  // Builds a version's pool (not started) and registers it as live.
  ServedPtr MakeVersion(const std::string& model, const VersionEntry& v) REQUIRES(mu_);
  // Resolves `version` (or the traffic split) within `slot`. Under mu_.
  StatusOr<ServedPtr> Route(const std::string& model, const ModelSlot& slot,
                            const std::string& version, const std::string& route_key) const
      REQUIRES(mu_);
  static ServedPtr Served(const ModelTarget& target);
  // An answer that needs no worker: inline on the caller's thread when it
  // takes that (InferRequest::answer_inline), else posted to the io thread.
  void AnswerEarly(bool inline_ok, InferCallback done, StatusOr<InferResponse> answer);
  // io thread: hands `p` to its version's pool, or to the version now
  // serving in its place when that pool was replaced and drained.
  void Submit(ServedPtr served, std::unique_ptr<Pending> p);
  // Ends a request's hold on the in-flight count. Any thread.
  void ReleaseInflight();
  // Runs the waiters whose condition holds. io thread.
  void RunWaiters();

  // Lifecycle (model_lifecycle.cc), io thread.
  void StartLoad(const std::string& model, std::optional<std::string> config_json);
  void OnScanned(const std::string& model, uint64_t load_id, StatusOr<ScannedModel> scanned);
  void OnVersionLoaded(const std::string& model, const ServedPtr& served, const Status& status);
  void SwitchTo(const std::string& model, LoadOp& op);
  // `status` by value: it may live in the LoadOp this erases.
  void FinishLoad(const std::string& model, Status status);
  // Drains a version no longer routed to; `drained` runs once its pool is gone.
  void Retire(const ServedPtr& served, std::function<void()> drained = {});
  void DestroyPool(const ServedPtr& served);
  void Unload(const std::string& model, bool forget, RepositoryDone done);
  void OnRescanned(std::map<std::string, std::string> signatures);
  void SchedulePoll();
  void RecordLoad(const std::string& model, int64_t version, bool ok);
  // Snapshot directories are shared by content: each ServedVersion (and
  // each scan not yet turned into one) holds a claim on its directory, and
  // a directory is removed, on files_, only if no claim was taken meanwhile
  // (a scan may have reused it). Claim: any thread; release: io thread.
  void ClaimSnapshots(const ModelEntry& entry) EXCLUDES(snapshot_mu_);
  void ReleaseSnapshot(const std::string& dir) EXCLUDES(snapshot_mu_);

  boost::asio::io_context& io_;
  AsioTimeSource time_;  // pools, workers and deadlines; outlives the pools
  RuntimeSettings runtime_;
  LifecycleOptions lifecycle_;
  ChildReaper reaper_;
  ReadyObserver observer_;
  Metrics* metrics_;
  int64_t max_inflight_ = kDefaultMaxInflight;
  std::atomic<int64_t> inflight_{0};
  std::atomic<bool> shutting_down_{false};
  mutable std::atomic<uint64_t> route_sequence_{0};

  mutable Mutex mu_;
  std::map<std::string, std::shared_ptr<ModelSlot>> models_ GUARDED_BY(mu_);
  // Every version with a pool: loading, serving or draining.
  std::vector<ServedPtr> live_ GUARDED_BY(mu_);

  Mutex snapshot_mu_;
  std::map<std::string, int> snapshot_claims_ GUARDED_BY(snapshot_mu_);

  // io thread only.
  std::map<std::string, std::unique_ptr<LoadOp>> loads_;
  std::map<std::string, std::string> failed_signatures_;  // models with no slot
  bool rescanning_ = false;
  bool rescan_again_ = false;  // a rescan was asked for while one ran
  uint64_t next_load_id_ = 1;
  TimerPtr poll_timer_;
  std::vector<Waiter> waiters_;
  // Whether waiters_ may be non-empty, so the hot path posts nothing
  // without a waiter.
  std::atomic<bool> has_waiters_{false};
  // Scans and snapshots run here, off the io thread (they read and copy
  // files). Declared last: joined first on destruction.
  boost::asio::thread_pool files_{1};
};

}  // namespace modelgate
