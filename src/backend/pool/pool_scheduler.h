// PoolScheduler: the queue of admitted requests of one model version and the
// policy that hands them to idle workers.
//   - FIFO service: requests leave in the order they were admitted.
//   - Batching (max_batch_size > 0): NextBatch takes the head and the
//     followers that can share its call (same inputs, rows fit) up to the
//     first that cannot (it leads the next batch, so order is kept). A batch
//     that is neither full nor a preferred size waits for more requests, but
//     never past the head's admission + max_queue_delay_us; when that bound
//     comes, `batch_due` runs so the pool dispatches again. A call marked
//     `alone` (a failed batch's member, retried) goes in a call of its own.
//   - Queued deadlines: a request whose deadline passes while queued leaves
//     the queue at that time through `expired` (one timer, armed for the
//     earliest deadline; DeadlineQueue keeps that O(1)).
// Callbacks run from timers (never from inside a method of this class).
// Threading: io thread only.
#pragma once

#include <functional>
#include <optional>

#include "backend/pool/pool_call.h"
#include "modelgate/model_config.h"
#include "modelgate/time_source.h"
#include "scheduler/deadline_queue.h"

namespace modelgate {

class PoolScheduler {
 public:
  struct Hooks {
    // A queued call whose deadline passed; it has left the queue.
    std::function<void(const CallPtr& call)> expired;
    // A waiting batch reached its delay bound: dispatch again.
    std::function<void()> batch_due;
  };
  PoolScheduler(const ModelConfig& config, TimeSource& time, Hooks hooks);

  void Push(CallPtr call);
  // Back at the head of the queue (a retry keeps its turn).
  void PushFront(CallPtr call);
  // The call, if still queued; it leaves the queue.
  std::optional<CallPtr> Remove(uint64_t ticket);
  // Precondition: !empty(). The calls for one worker call, in FIFO order;
  // empty when it is worth waiting for more (batch_due will say when).
  Batch NextBatch();
  std::vector<CallPtr> TakeAll();

  size_t size() const { return queue_.size(); }
  bool empty() const { return queue_.empty(); }

 private:
  void ArmExpiry();
  void ExpireQueued();

  const ModelConfig& config_;
  TimeSource& time_;
  Hooks hooks_;
  DeadlineQueue<CallPtr> queue_;
  TimerPtr expiry_timer_;
  std::optional<SteadyTime> expiry_armed_at_;  // what expiry_timer_ waits for
  TimerPtr batch_timer_;                       // ends a batch's wait for more requests
};

}  // namespace modelgate
