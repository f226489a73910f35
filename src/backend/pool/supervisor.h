// Supervisor: the warm workers of one model version and their lives.
//   - Spawn: Start() brings up config.workers; Resume() tops up to that.
//   - Warm-up: after its Hello a worker answers config.warmup (warmup.h)
//     before it serves; until then it counts as starting. A failed warm-up
//     is a start failure.
//   - Replace: a dead worker is replaced, at once after a timeout kill or a
//     recycle, else after exponential backoff with jitter (kBackoffBase
//     doubling per consecutive failed start or crash, capped at kBackoffMax);
//     never while stopped or draining, never one stopped on purpose
//     (kStopped).
//   - Give up: the same start failure (same text, pids aside)
//     kSameErrorLimit times in a row stops respawning until Resume(), logged
//     once ("model_load_given_up"); so does any start failure while a load
//     is awaited (AwaitLoad) and not yet complete: that pool is discarded.
//     Every other start failure is logged once at error level
//     ("worker_start_failed") with the reason.
//   - Loaded: once config.workers workers serve at the same time (Hello and
//     warm-up done), `load_settled` reports OK; an awaited load's first
//     start failure reports that failure instead.
//   - Recycle: a ready worker past recycle_max_requests or
//     recycle_max_rss_mb is stopped gracefully (then replaced).
//   - Readiness: ready() is "a warmed-up worker is ready or busy and the
//     breaker is not open"; re-checked when the open breaker lets probes
//     through.
//   - Load error: why the model cannot serve (a start failure, or the stop
//     reason), cleared by the next worker that serves.
// Hooks and events run on the io thread; `ready` may run inside the worker's
// own callback, `died` after the worker left the pool.
// Threading: io thread only, except ready() and load_error() (any thread).
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "backend/pool/pool_call.h"
#include "backend/pool/warmup.h"
#include "common/mutex.h"
#include "modelgate/model_config.h"
#include "modelgate/time_source.h"
#include "modelgate/worker.h"
#include "resilience/circuit_breaker.h"

namespace modelgate {

class Supervisor : public Worker::Listener {
 public:
  using WorkerFactory = std::function<std::shared_ptr<Worker>(Worker::Listener*)>;
  static constexpr std::chrono::milliseconds kBackoffBase{500};
  static constexpr std::chrono::milliseconds kBackoffMax{30000};
  static constexpr int kBackoffMaxDoublings = 10;
  static constexpr double kBackoffJitterMin = 0.8;
  static constexpr double kBackoffJitterMax = 1.2;
  static constexpr std::chrono::milliseconds kRecycleGrace{2000};
  // Readiness is re-checked this long after an open breaker's open time, so
  // that the breaker reads half-open by then.
  static constexpr std::chrono::milliseconds kBreakerRecheckDelay{1};
  // This many identical start failures in a row stop the respawns.
  static constexpr int kSameErrorLimit = 3;

  struct Hooks {
    std::function<void()> worker_ready;  // a worker became idle
    // A worker died unplanned (not after Stop, Drain or kStopped); it is
    // replaced unless respawns are held.
    std::function<void()> worker_died;
    // Any worker left workers() (after worker_died, if that ran too).
    std::function<void()> worker_gone;
    // The load completed (OK) or an awaited load failed; at most once.
    std::function<void(const Status& outcome)> load_settled;
  };
  // `events` (changed, worker_restarted) is read when they happen, so the
  // owner may replace it later; `breaker` decides readiness.
  Supervisor(boost::asio::io_context& io, const ModelConfig& config, int64_t version,
             WorkerFactory factory, TimeSource& time, CircuitBreaker& breaker,
             const PoolEvents& events, Hooks hooks);
  ~Supervisor() override;

  void Start();
  // Stops every worker (EOF, SIGTERM after `grace`, SIGKILL after 2x) and
  // replaces none until Resume(); the load error reads "model <why>".
  void Stop(std::chrono::milliseconds grace, const std::string& why);
  // Restarts a stopped pool, or respawns after a give-up (not when draining).
  void Resume();
  // From now on nothing is spawned or replaced; workers still starting or
  // warming up are stopped at once; serving ones stay.
  void Drain(std::chrono::milliseconds grace);
  // A load waits on this pool: its first start failure before it loaded
  // ends the load and holds respawns. Returns the outcome if already known:
  // OK once loaded, or the start failure seen before (respawns then held).
  std::optional<Status> AwaitLoad();
  bool loaded() const { return loaded_; }

  // Stops `worker` for replacement if it is ready and past a recycle limit.
  void MaybeRecycle(const std::shared_ptr<Worker>& worker);
  void UpdateReady();

  bool ready() const { return ready_.load(std::memory_order_acquire); }
  std::string load_error() const;
  // A worker is ready or busy (with clients' requests, not warm-up).
  bool AnyAlive() const;
  bool AnyIdle() const;
  // `worker` said Hello and finished its warm-up, and is idle.
  bool Idle(const Worker& worker) const;
  const std::vector<std::shared_ptr<Worker>>& workers() const { return workers_; }
  std::array<int, kWorkerStateCount> WorkerStates() const;
  std::vector<int> WorkerPids() const;
  int64_t WorkerRssBytes() const;

  // Worker::Listener
  void OnWorkerReady(Worker& worker) override;
  void OnWorkerDead(Worker& worker, const Status& why, DeathCause cause) override;

 private:
  void SpawnWorker();
  // Spawns until config.workers workers are alive (not dying).
  void TopUp();
  // Said Hello, finished warm-up, not dying.
  bool Serving(const Worker& worker) const;
  // Records a start failure; false when respawns are now held.
  bool OnStartFailed(const std::string& message, std::chrono::milliseconds delay);
  void HoldRespawns();
  void ScheduleRespawn(std::chrono::milliseconds delay);
  std::chrono::milliseconds BackoffDelay();
  void SetLoadError(std::string error);

  boost::asio::io_context& io_;
  const ModelConfig& config_;
  const int64_t version_;
  WorkerFactory factory_;
  TimeSource& time_;
  CircuitBreaker& breaker_;
  const PoolEvents& events_;
  Hooks hooks_;

  std::vector<std::shared_ptr<Worker>> workers_;
  std::map<uint64_t, TimerPtr> respawn_timers_;
  uint64_t next_respawn_ = 0;
  TimerPtr breaker_timer_;  // re-checks readiness when an open breaker half-opens
  Warmup warmup_;
  int consecutive_failures_ = 0;
  // The last start failure (pids removed) and how often it came in a row.
  std::string last_failure_key_;
  int same_failures_ = 0;
  bool stopped_ = false;
  bool draining_ = false;
  bool hold_respawns_ = false;  // given up, or an awaited load failed
  bool load_awaited_ = false;
  bool loaded_ = false;                      // config.workers served at the same time once
  std::optional<std::string> load_failure_;  // first start failure before loaded_
  std::minstd_rand rng_{std::random_device{}()};

  std::atomic<bool> ready_{false};
  mutable Mutex error_mu_;  // load_error() is read from other threads
  std::string load_error_ GUARDED_BY(error_mu_);
};

}  // namespace modelgate
