// DeadlineQueue: a FIFO whose entries may carry a deadline. Entries leave in
// order (PopFront), when their deadline passes (TakeExpired), or when
// cancelled by ticket (Remove). Sizes are bounded by the caller (the model's
// max_queue_size), so the linear scans stay short. Not thread-safe.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "modelgate/clock.h"

namespace modelgate {

template <typename T>
class DeadlineQueue {
 public:
  void Push(uint64_t ticket, std::optional<SteadyTime> deadline, T item) {
    entries_.push_back({ticket, deadline, std::move(item)});
  }

  std::optional<T> PopFront() {
    if (entries_.empty()) return std::nullopt;
    T item = std::move(entries_.front().item);
    entries_.pop_front();
    return item;
  }

  // Removes and returns, in queue order, every entry whose deadline is <= now.
  std::vector<T> TakeExpired(SteadyTime now) {
    std::vector<T> out;
    auto expired = [&](const Entry& e) { return e.deadline && *e.deadline <= now; };
    for (auto& e : entries_) {
      if (expired(e)) out.push_back(std::move(e.item));
    }
    entries_.erase(std::remove_if(entries_.begin(), entries_.end(), expired), entries_.end());
    return out;
  }

  std::optional<SteadyTime> NextDeadline() const {
    std::optional<SteadyTime> next;
    for (const auto& e : entries_) {
      if (e.deadline && (!next || *e.deadline < *next)) next = e.deadline;
    }
    return next;
  }

  std::optional<T> Remove(uint64_t ticket) {
    auto it = std::find_if(entries_.begin(), entries_.end(),
                           [&](const Entry& e) { return e.ticket == ticket; });
    if (it == entries_.end()) return std::nullopt;
    T item = std::move(it->item);
    entries_.erase(it);
    return item;
  }

  std::vector<T> TakeAll() {
    std::vector<T> out;
    for (auto& e : entries_) out.push_back(std::move(e.item));
    entries_.clear();
    return out;
  }

  // The i-th entry in queue order (i < size()).
  const T& At(size_t i) const { return entries_[i].item; }

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

 private:
  struct Entry {
    uint64_t ticket;
    std::optional<SteadyTime> deadline;
    T item;
  };
  std::deque<Entry> entries_;
};

}  // namespace modelgate
