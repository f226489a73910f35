// DeadlineQueue: a FIFO whose entries may carry a deadline. Entries leave in
// order (PopFront), when their deadline passes (TakeExpired), or when
// cancelled by ticket (Remove). Service order is push order, except that
// PushFront puts an entry back at the head.
//
// The queue may hold a very large number of entries (max_queue_size), and
// the pool asks for the earliest deadline after every change, so no
// operation scans the queue:
//   fifo_      push sequence -> entry (ordered: the head is begin())
//   tickets_   ticket -> push sequence (hash map), for Remove
//   deadlines_ (deadline, push sequence), ordered: the earliest is begin()
// Push, PopFront, Remove: O(log n). NextDeadline: O(1). TakeExpired: O(k log n)
// for the k entries it returns (it walks deadlines_ from the front and stops
// at the first deadline still ahead). TakeAll: O(n). Every index is updated
// when an entry leaves, so memory stays proportional to the entries held.
// Not thread-safe.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "modelgate/time_source.h"

namespace modelgate {

template <typename T>
class DeadlineQueue {
 public:
  // Tickets must be unique among the entries held.
  void Push(uint64_t ticket, std::optional<SteadyTime> deadline, T item) {
    const uint64_t seq = next_seq_++;
    fifo_.emplace(seq, Entry{ticket, deadline, std::move(item)});
    tickets_.emplace(ticket, seq);
    if (deadline) deadlines_.emplace(*deadline, seq);
  }

  // Puts an entry back at the head, before every other (a retry keeps its
  // turn). Same cost as Push.
  void PushFront(uint64_t ticket, std::optional<SteadyTime> deadline, T item) {
    const uint64_t seq = front_seq_--;
    fifo_.emplace(seq, Entry{ticket, deadline, std::move(item)});
    tickets_.emplace(ticket, seq);
    if (deadline) deadlines_.emplace(*deadline, seq);
  }

  std::optional<T> PopFront() {
    if (fifo_.empty()) return std::nullopt;
    return Take(fifo_.begin());
  }

  // Calls f(item) from the head in FIFO order until it returns false.
  template <typename F>
  void VisitFromFront(F&& f) const {
    for (const auto& [seq, e] : fifo_) {
      if (!f(e.item)) return;
    }
  }
  const T& Front() const { return fifo_.begin()->second.item; }  // !empty()

  // Removes and returns, in queue order, every entry whose deadline is <= now.
  std::vector<T> TakeExpired(SteadyTime now) {
    std::vector<uint64_t> seqs;
    for (auto it = deadlines_.begin(); it != deadlines_.end() && it->first <= now; ++it) {
      seqs.push_back(it->second);
    }
    std::sort(seqs.begin(), seqs.end());  // queue order is push order
    std::vector<T> out;
    out.reserve(seqs.size());
    for (uint64_t seq : seqs) out.push_back(Take(fifo_.find(seq)));
    return out;
  }

  std::optional<SteadyTime> NextDeadline() const {
    if (deadlines_.empty()) return std::nullopt;
    return deadlines_.begin()->first;
  }

  std::optional<T> Remove(uint64_t ticket) {
    auto it = tickets_.find(ticket);
    if (it == tickets_.end()) return std::nullopt;
    return Take(fifo_.find(it->second));
  }

  std::vector<T> TakeAll() {
    std::vector<T> out;
    out.reserve(fifo_.size());
    for (auto& [seq, e] : fifo_) out.push_back(std::move(e.item));
    fifo_.clear();
    tickets_.clear();
    deadlines_.clear();
    return out;
  }

  size_t size() const { return fifo_.size(); }
  bool empty() const { return fifo_.empty(); }

 private:
  struct Entry {
    uint64_t ticket;
    std::optional<SteadyTime> deadline;
    T item;
  };
  using Fifo = std::map<uint64_t, Entry>;

  T Take(typename Fifo::iterator it) {
    Entry& e = it->second;
    tickets_.erase(e.ticket);
    if (e.deadline) deadlines_.erase({*e.deadline, it->first});
    T item = std::move(e.item);
    fifo_.erase(it);
    return item;
  }

  // Push counts up from the middle of the range, PushFront down from just
  // below it: either way 2^63 entries before they could meet.
  uint64_t next_seq_ = uint64_t{1} << 63;
  uint64_t front_seq_ = (uint64_t{1} << 63) - 1;
  Fifo fifo_;
  std::unordered_map<uint64_t, uint64_t> tickets_;
  std::set<std::pair<SteadyTime, uint64_t>> deadlines_;
};

}  // namespace modelgate
