// OffloadPool: a few threads for CPU-heavy work that must not run on the io
// thread — parsing large REST bodies and encoding large responses — so one
// client's 60 MB body does not stall every other connection.
//
// At most max_pending jobs are queued or running; beyond that Submit refuses
// and the caller answers 503 (Retry-After), so memory held by waiting jobs is
// bounded. A job's result is handed back on the io thread.
//
// Threading: Submit from the io thread (or any thread); `work` runs on a pool
// thread and must not touch io-thread state; `done` runs on the io thread.
// The destructor waits for running jobs; `done` of a job that finishes after
// the io_context stopped never runs.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstddef>
#include <utility>

namespace modelgate {

class OffloadPool {
 public:
  // Jobs allowed to wait per thread before Submit refuses.
  static constexpr size_t kMaxPendingPerThread = 4;
  // Threads when the machine's core count is unknown, and at most.
  static constexpr size_t kFallbackThreads = 2;
  static constexpr size_t kMaxThreads = 16;

  // threads = 0: one per core (at most kMaxThreads); max_pending = 0:
  // kMaxPendingPerThread per thread.
  OffloadPool(boost::asio::io_context& io, size_t threads = 0, size_t max_pending = 0);
  ~OffloadPool();

  // Runs work() on a pool thread, then done(result) on the io thread. False,
  // and nothing runs, when max_pending jobs are already pending.
  template <class Work, class Done>
  bool Submit(Work work, Done done) {
    if (!Reserve()) return false;
    boost::asio::post(pool_, [this, work = std::move(work), done = std::move(done)]() mutable {
      auto result = work();
      pending_.fetch_sub(1, std::memory_order_acq_rel);
      boost::asio::post(io_, [done = std::move(done), result = std::move(result)]() mutable {
        done(std::move(result));
      });
    });
    return true;
  }

  size_t threads() const { return threads_; }
  size_t max_pending() const { return max_pending_; }
  size_t pending() const { return pending_.load(std::memory_order_acquire); }

 private:
  bool Reserve();

  boost::asio::io_context& io_;
  const size_t threads_;
  const size_t max_pending_;
  std::atomic<size_t> pending_{0};
  boost::asio::thread_pool pool_;
};

}  // namespace modelgate
