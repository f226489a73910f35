#include "backend/pool/pool_scheduler.h"

#include <algorithm>

#include "scheduler/batching.h"

namespace modelgate {

PoolScheduler::PoolScheduler(const ModelConfig& config, TimeSource& time, Hooks hooks)
    : config_(config),
      time_(time),
      hooks_(std::move(hooks)),
      expiry_timer_(time.CreateTimer([this] { ExpireQueued(); })),
      batch_timer_(time.CreateTimer([this] { hooks_.batch_due(); })) {}

void PoolScheduler::Push(CallPtr call) {
  const uint64_t ticket = call->ticket;
  const auto deadline = call->request.deadline;
  queue_.Push(ticket, deadline, std::move(call));
  ArmExpiry();
}

void PoolScheduler::PushFront(CallPtr call) {
  const uint64_t ticket = call->ticket;
  const auto deadline = call->request.deadline;
  queue_.PushFront(ticket, deadline, std::move(call));
  ArmExpiry();
}

std::optional<CallPtr> PoolScheduler::Remove(uint64_t ticket) {
  auto call = queue_.Remove(ticket);
  if (call) ArmExpiry();
  return call;
}

std::vector<CallPtr> PoolScheduler::TakeAll() {
  auto calls = queue_.TakeAll();
  batch_timer_->Disable();
  ArmExpiry();
  return calls;
}

void PoolScheduler::ArmExpiry() {
  // Re-armed only when the earliest deadline changed: a push behind an
  // earlier deadline costs no timer operation.
  const auto next = queue_.NextDeadline();
  if (next == expiry_armed_at_ && expiry_timer_->enabled() == next.has_value()) return;
  expiry_armed_at_ = next;
  if (next) {
    expiry_timer_->EnableAt(*next);
  } else {
    expiry_timer_->Disable();
  }
}

void PoolScheduler::ExpireQueued() {
  expiry_armed_at_.reset();
  for (auto& call : queue_.TakeExpired(time_.Now())) hooks_.expired(call);
  ArmExpiry();
}

Batch PoolScheduler::NextBatch() {
  Batch batch;
  if (config_.max_batch_size == 0 || queue_.Front()->alone) {
    batch.push_back(*queue_.PopFront());
    ArmExpiry();
    return batch;
  }
  const CallPtr& head = queue_.Front();
  const auto& first = head->request.inputs;
  int64_t rows = -1;
  bool full = false;
  size_t n = 0;
  // Take followers in FIFO order while they fit; the first that cannot join
  // ends the batch (it will lead the next one), so order is kept.
  queue_.VisitFromFront([&](const CallPtr& call) {
    if (n == 0) {
      rows = BatchRows(first);
      full = rows < 0 || rows >= config_.max_batch_size;
      n = 1;
      return !full;
    }
    const auto& next = call->request.inputs;
    const int64_t r = BatchRows(next);
    if (call->alone ||
        !Batchable(first, head->request.parameters, next, call->request.parameters) ||
        rows + r > config_.max_batch_size) {
      full = true;
      return false;
    }
    rows += r;
    ++n;
    full = rows >= config_.max_batch_size;
    return !full;
  });
  const bool preferred =
      std::find(config_.preferred_batch_sizes.begin(), config_.preferred_batch_sizes.end(), rows) !=
      config_.preferred_batch_sizes.end();
  const SteadyTime go_at = head->admitted + std::chrono::microseconds(config_.max_queue_delay_us);
  if (!full && !preferred && time_.Now() < go_at) {
    // Wait for more requests, but never past the oldest one's delay bound.
    batch_timer_->EnableAt(go_at);
    return {};
  }
  batch_timer_->Disable();
  for (size_t i = 0; i < n; ++i) batch.push_back(*queue_.PopFront());
  ArmExpiry();
  return batch;
}

}  // namespace modelgate
