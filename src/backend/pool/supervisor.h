// Supervisor: the warm workers of one model version and their lives.
//   - Spawn: Start() brings up config.workers; Resume() tops up to that.
//   - Replace: a dead worker is replaced, at once after a timeout kill or a
//     recycle, else after exponential backoff with jitter (kBackoffBase
//     doubling per consecutive failed start or crash, capped at kBackoffMax);
//     never while stopped, never one stopped on purpose (kStopped).
//   - Recycle: a ready worker past recycle_max_requests or
//     recycle_max_rss_mb is stopped gracefully (then replaced).
//   - Readiness: ready() is "a worker is ready or busy and the breaker is
//     not open"; re-checked when the open breaker lets probes through.
//   - Load error: why the model cannot serve (a start failure, or the stop
//     reason), cleared by the next worker that says Hello.
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
#include <random>
#include <string>
#include <vector>

#include "backend/pool/pool_call.h"
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

  struct Hooks {
    std::function<void()> worker_ready;  // a worker became idle
    // A worker died and is being replaced (not after Stop or kStopped).
    std::function<void()> worker_died;
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
  void Resume();

  // Stops `worker` for replacement if it is ready and past a recycle limit.
  void MaybeRecycle(const std::shared_ptr<Worker>& worker);
  void UpdateReady();

  bool ready() const { return ready_.load(std::memory_order_acquire); }
  std::string load_error() const;
  // A worker is ready or busy.
  bool AnyAlive() const;
  bool AnyIdle() const;
  const std::vector<std::shared_ptr<Worker>>& workers() const { return workers_; }
  std::array<int, kWorkerStateCount> WorkerStates() const;
  std::vector<int> WorkerPids() const;
  int64_t WorkerRssBytes() const;

  // Worker::Listener
  void OnWorkerReady(Worker& worker) override;
  void OnWorkerDead(Worker& worker, const Status& why, DeathCause cause) override;

 private:
  void SpawnWorker();
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
  int consecutive_failures_ = 0;
  bool stopped_ = false;
  std::minstd_rand rng_{std::random_device{}()};

  std::atomic<bool> ready_{false};
  mutable Mutex error_mu_;  // load_error() is read from other threads
  std::string load_error_ GUARDED_BY(error_mu_);
};

}  // namespace modelgate
