// Warmup: runs a model version's warm-up requests (config.warmup) on each
// new worker after its Hello, before the worker counts as ready.
//   - Order: request i goes once request i-1 has answered, with request id
//     "warmup-<i>"; answers are discarded.
//   - Failure: an error answer, the worker dying mid-way, or not finishing
//     within config.startup_timeout_ms of Begin() fails the warm-up; the
//     worker is killed (DeathCause::kStartFailed) and Failure() names why
//     ("warm-up request <i> failed: <the model's message>").
// The supervisor owns one Warmup and asks Phase() when a worker reports
// itself idle; it forgets a worker when it dies.
//
// Ownership: holds only weak references to workers. A worker's answer that
// arrives after the Warmup is gone is ignored (the callbacks hold a token).
// Threading: io thread only; Begin never calls back from inside itself.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "modelgate/model_config.h"
#include "modelgate/time_source.h"
#include "modelgate/worker.h"

namespace modelgate {

class Warmup {
 public:
  enum class Phase {
    kNone,     // not begun (or forgotten)
    kRunning,  // a warm-up request is in flight
    kDone,     // every warm-up request answered: the worker may serve
    kFailed,   // failed; the worker was killed
  };

  Warmup(const ModelConfig& config, TimeSource& time);

  bool needed() const { return !config_.warmup.empty(); }
  // Precondition: worker->state() == kReady, Phase(*worker) == kNone.
  void Begin(const std::shared_ptr<Worker>& worker);
  Phase phase(const Worker& worker) const;
  // Why the warm-up of `worker` failed, if it did.
  std::optional<std::string> Failure(const Worker& worker) const;
  // Stops tracking `worker`: its later answers are ignored (it died, or is
  // being stopped on purpose).
  void Forget(const Worker& worker);

 private:
  struct Entry {
    std::weak_ptr<Worker> worker;
    size_t next = 0;  // index of the request in flight (or the next to send)
    Phase phase = Phase::kRunning;
    std::string failure;
    TimerPtr timer;  // the startup_timeout_ms budget
  };

  void Send(Entry& entry, Worker& worker);
  void OnAnswer(const Worker* key, size_t index, const StatusOr<std::vector<Tensor>>& result);
  void Fail(Entry& entry, std::string why);

  const ModelConfig& config_;
  TimeSource& time_;
  std::unordered_map<const Worker*, std::unique_ptr<Entry>> entries_;
  // Answers capture a weak copy: they may come after this object is gone.
  std::shared_ptr<Warmup*> self_ = std::make_shared<Warmup*>(this);
};

}  // namespace modelgate
