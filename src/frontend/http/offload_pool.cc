#include "frontend/http/offload_pool.h"

#include <algorithm>
#include <thread>

namespace modelgate {

namespace {

size_t ThreadCount(size_t requested) {
  if (requested > 0) return requested;
  const size_t cores = std::thread::hardware_concurrency();
  return std::min(cores > 0 ? cores : OffloadPool::kFallbackThreads, OffloadPool::kMaxThreads);
}

}  // namespace

OffloadPool::OffloadPool(boost::asio::io_context& io, size_t threads, size_t max_pending)
    : io_(io),
      threads_(ThreadCount(threads)),
      max_pending_(max_pending > 0 ? max_pending : threads_ * kMaxPendingPerThread),
      pool_(threads_) {}

OffloadPool::~OffloadPool() { pool_.join(); }

bool OffloadPool::Reserve() {
  size_t n = pending_.load(std::memory_order_acquire);
  do {
    if (n >= max_pending_) return false;
  } while (!pending_.compare_exchange_weak(n, n + 1, std::memory_order_acq_rel));
  return true;
}

}  // namespace modelgate
