#include "frontend/http/connection_slots.h"

namespace modelgate {

std::shared_ptr<ConnectionSlots> ConnectionSlots::Create(size_t max_connections) {
  return std::shared_ptr<ConnectionSlots>(new ConnectionSlots(max_connections));
}

std::unique_ptr<ConnectionSlots::Slot> ConnectionSlots::Acquire() {
  if (open_ >= max_) {
    std::function<void()> close = TakeOldestIdle();
    if (!close) return nullptr;
    close();
  }
  ++open_;
  return std::unique_ptr<Slot>(new Slot(shared_from_this()));
}

bool ConnectionSlots::EvictOldestIdle() {
  std::function<void()> close = TakeOldestIdle();
  if (!close) return false;
  close();
  return true;
}

std::function<void()> ConnectionSlots::TakeOldestIdle() {
  if (idle_.empty()) return nullptr;
  Slot* slot = idle_.front();
  idle_.pop_front();
  slot->idle_pos_.reset();
  slot->evicted_ = true;
  --open_;
  return std::move(slot->close_);
}

void ConnectionSlots::Release(Slot& slot) {
  if (slot.evicted_) return;  // its place was already given away
  if (slot.idle_pos_) idle_.erase(*slot.idle_pos_);
  --open_;
}

ConnectionSlots::Slot::~Slot() { owner_->Release(*this); }

void ConnectionSlots::Slot::SetIdle(std::function<void()> close) {
  if (evicted_) return;
  close_ = std::move(close);
  if (idle_pos_) owner_->idle_.erase(*idle_pos_);
  idle_pos_ = owner_->idle_.insert(owner_->idle_.end(), this);
}

void ConnectionSlots::Slot::SetBusy() {
  if (!idle_pos_) return;
  owner_->idle_.erase(*idle_pos_);
  idle_pos_.reset();
  close_ = nullptr;
}

}  // namespace modelgate
