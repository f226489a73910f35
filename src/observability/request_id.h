// Request ids: the client's (V2 body "id", x-request-id header or gRPC
// metadata, gRPC "id"), else one generated here, unique per daemon run. A
// client's id ends up in response headers, gRPC trailing metadata, JSON
// bodies and log lines, so it is checked before any of them sees it.
// Thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "modelgate/status.h"

namespace modelgate {

inline constexpr size_t kMaxRequestIdBytes = 128;

// OK when `id` is 1..kMaxRequestIdBytes bytes of printable ASCII without
// space (0x21..0x7E), or empty (the caller then generates one); otherwise
// INVALID_ARGUMENT naming `source` (e.g. "header x-request-id") and the rule.
Status ValidateRequestId(std::string_view id, std::string_view source);

// "mg-<random per-process prefix>-<counter>"; always passes ValidateRequestId.
std::string NewRequestId();

}  // namespace modelgate
