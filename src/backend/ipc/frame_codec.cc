#include "backend/ipc/frame_codec.h"

#include <cstring>

namespace modelgate {

namespace {

void PutLength(uint32_t n, char* out) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
}

uint32_t GetLength(const char* in) {
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n |= static_cast<uint32_t>(static_cast<uint8_t>(in[i])) << (8 * i);
  return n;
}

}  // namespace

Status EncodeFrame(const worker::v1::Frame& frame, std::string* out, uint32_t max_bytes) {
  const size_t size = frame.ByteSizeLong();
  if (size > max_bytes) {
    return {StatusCode::kTooLarge, "frame of " + std::to_string(size) +
                                       " bytes exceeds the limit of " + std::to_string(max_bytes)};
  }
  const size_t start = out->size();
  out->resize(start + kFrameHeaderBytes + size);
  PutLength(static_cast<uint32_t>(size), out->data() + start);
  if (!frame.SerializeToArray(out->data() + start + kFrameHeaderBytes, static_cast<int>(size))) {
    out->resize(start);
    return Internal("frame serialization failed");
  }
  return Status::Ok();
}

FrameDecoder::Result FrameDecoder::Next(worker::v1::Frame* frame, Status* error) {
  if (failed_) {
    *error = failure_;
    return Result::kError;
  }
  if (pending_bytes() < kFrameHeaderBytes) return Result::kNeedMore;
  const uint32_t size = GetLength(buffer_.data() + offset_);
  if (size > max_bytes_) {
    failed_ = true;
    failure_ = Internal("malformed frame: length " + std::to_string(size) +
                        " exceeds the limit of " + std::to_string(max_bytes_));
    *error = failure_;
    return Result::kError;
  }
  if (pending_bytes() < kFrameHeaderBytes + size) return Result::kNeedMore;
  const char* body = buffer_.data() + offset_ + kFrameHeaderBytes;
  if (!frame->ParseFromArray(body, static_cast<int>(size))) {
    failed_ = true;
    failure_ = Internal("malformed frame: " + std::to_string(size) +
                        " bytes that do not parse as a modelgate.worker.v1.Frame");
    *error = failure_;
    return Result::kError;
  }
  offset_ += kFrameHeaderBytes + size;
  // Compact once the consumed prefix dominates, so the buffer stays bounded.
  if (offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
  } else if (offset_ > 64 * 1024 && offset_ * 2 > buffer_.size()) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  return Result::kFrame;
}

}  // namespace modelgate
