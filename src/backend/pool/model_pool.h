// ModelPool: the warm workers of one model version and its bounded FIFO queue.
//
// Submit() hands a request to an idle worker, or queues it, or rejects it at
// once: 429 when the queue is full, 503 when the model cannot load. Workers
// that die are replaced with exponential backoff and jitter. ready() is true
// while at least one worker is alive and idle or busy.
//
// Threading: every method except ready() / load_error() runs on the io thread.
// Those two may be read from any thread (front ends, health).
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <random>

#include "modelgate/model_config.h"
#include "modelgate/worker.h"

namespace modelgate {

class ModelPool : public Worker::Listener {
 public:
  using WorkerFactory = std::function<std::shared_ptr<Worker>(Worker::Listener*)>;
  // Told (on the io thread) whenever ready() changes.
  using ReadyObserver = std::function<void(bool ready)>;

  ModelPool(boost::asio::io_context& io, const ModelConfig& config, int64_t version,
            WorkerFactory factory);
  ~ModelPool() override;

  void Start();
  // Answers every queued request with 503 and stops the workers gracefully;
  // until Resume(), requests get 503 "<label> is <why>".
  void Stop(std::chrono::milliseconds grace, const std::string& why);
  // Starts workers again after Stop.
  void Resume();

  // `done` runs exactly once, on the io thread, never from inside Submit.
  void Submit(std::vector<Tensor> inputs, std::string request_id, InferDone done);

  bool ready() const { return ready_.load(std::memory_order_acquire); }
  std::string load_error() const;
  int64_t version() const { return version_; }
  const ModelConfig& config() const { return config_; }
  size_t queue_depth() const { return queue_.size(); }
  size_t worker_count() const { return workers_.size(); }
  void set_ready_observer(ReadyObserver o) { observer_ = std::move(o); }

  // Worker::Listener
  void OnWorkerReady(Worker& worker) override;
  void OnWorkerDead(Worker& worker, const Status& why, bool never_ready) override;

 private:
  struct Pending {
    std::vector<Tensor> inputs;
    std::string request_id;
    InferDone done;
  };

  void SpawnWorker();
  void ScheduleRespawn();
  void Dispatch();
  void UpdateReady();
  void FailQueued(const Status& why);
  std::string Label() const;

  boost::asio::io_context& io_;
  const ModelConfig& config_;
  const int64_t version_;
  WorkerFactory factory_;
  ReadyObserver observer_;

  std::vector<std::shared_ptr<Worker>> workers_;
  std::deque<Pending> queue_;
  std::vector<std::unique_ptr<boost::asio::steady_timer>> respawn_timers_;
  int consecutive_failures_ = 0;
  bool stopping_ = false;
  std::string stopped_why_;
  std::minstd_rand rng_{std::random_device{}()};

  std::atomic<bool> ready_{false};
  mutable std::mutex error_mu_;
  std::string load_error_;  // guarded by error_mu_: last reason a worker never became ready
};

}  // namespace modelgate
