// Length-prefixed framing of modelgate.worker.v1.Frame messages (see
// proto/worker.proto): a 4-byte little-endian length N, then N bytes.
//
// FrameDecoder is incremental: append bytes as they arrive from a pipe and
// pull out whole frames. A length over the limit is rejected before any
// allocation. Not thread-safe; one decoder per pipe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/limits.h"
#include "modelgate/status.h"
#include "worker.pb.h"

namespace modelgate {

// Frames are limited to kMaxFrameBytes (common/limits.h) unless told otherwise.
inline constexpr size_t kFrameHeaderBytes = 4;

// Appends the header and serialized frame to *out.
Status EncodeFrame(const worker::v1::Frame& frame, std::string* out,
                   uint32_t max_bytes = kMaxFrameBytes);

class FrameDecoder {
 public:
  enum class Result { kFrame, kNeedMore, kError };

  explicit FrameDecoder(uint32_t max_bytes = kMaxFrameBytes) : max_bytes_(max_bytes) {}

  void Append(const char* data, size_t n) { buffer_.append(data, n); }
  void Append(std::string_view data) { buffer_.append(data); }

  // kFrame: *frame holds the next frame. kNeedMore: wait for more bytes.
  // kError: *error says why (oversized or unparsable); the stream is
  // unusable afterwards and every further call returns kError.
  Result Next(worker::v1::Frame* frame, Status* error);

  // Bytes buffered but not yet returned as frames (a truncated tail at EOF).
  size_t pending_bytes() const { return buffer_.size() - offset_; }

 private:
  uint32_t max_bytes_;
  std::string buffer_;
  size_t offset_ = 0;
  bool failed_ = false;
  Status failure_;
};

}  // namespace modelgate
