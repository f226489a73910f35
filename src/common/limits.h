// Limits that more than one layer uses, each defined once here.
#pragma once

#include <cstddef>
#include <cstdint>

namespace modelgate {

// Largest worker frame (proto/worker.proto) accepted in either direction.
// The daemon passes it to the R and Python runtimes in the environment
// variable kMaxFrameBytesEnv (below); they fall
// back to the same 64 MiB only when started without it.
inline constexpr uint32_t kMaxFrameBytes = 64u * 1024u * 1024u;

// Tells the worker the frame limit (kMaxFrameBytes, decimal), so the limit is
// defined once; a worker started without it falls back to 64 MiB.
inline constexpr const char* kMaxFrameBytesEnv = "MODELGATE_MAX_FRAME_BYTES";

// Default --max-request-bytes (largest REST body or gRPC message): one frame,
// so a request at the limit carries no more tensor data than a frame holds.
inline constexpr size_t kDefaultMaxRequestBytes = kMaxFrameBytes;

// Default --max-inflight: requests in flight across all models (beyond: 429).
inline constexpr int64_t kDefaultMaxInflight = 4096;

// Default --max-connections: open REST connections.
inline constexpr int kDefaultMaxConnections = 1024;

}  // namespace modelgate
