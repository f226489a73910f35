#include "observability/request_id.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <random>

namespace modelgate {

Status ValidateRequestId(std::string_view id, std::string_view source) {
  const bool printable = std::all_of(id.begin(), id.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x21 && static_cast<unsigned char>(c) <= 0x7E;
  });
  if (id.size() <= kMaxRequestIdBytes && printable) return Status::Ok();
  // The offending id is not echoed: it is what cannot be trusted.
  return InvalidArgument("request id in " + std::string(source) + " must be 1 to " +
                         std::to_string(kMaxRequestIdBytes) +
                         " bytes of printable ASCII without spaces (0x21-0x7E); got " +
                         std::to_string(id.size()) + " bytes" +
                         (printable ? "" : " with a character outside that range"));
}

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
