#include "modelgate/request_id.h"

#include <atomic>
#include <cstdio>
#include <random>

namespace modelgate {

std::string NewRequestId() {
  // A random per-process prefix keeps ids unique across restarts and replicas.
  static const uint32_t prefix = std::random_device{}();
  static std::atomic<uint64_t> counter{0};
  char buf[40];
  std::snprintf(
      buf, sizeof buf, "mg-%08x-%llu", prefix,
      static_cast<unsigned long long>(counter.fetch_add(1, std::memory_order_relaxed) + 1));
  return buf;
}

}  // namespace modelgate
