#include "common/status_map.h"

namespace modelgate {

namespace {

struct Row {
  int http;
  int grpc;
  std::string_view grpc_name;
};

// See DESIGN.md "One status table".
constexpr Row RowOf(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return {200, 0, "OK"};
    case StatusCode::kInvalidArgument:
      return {400, 3, "INVALID_ARGUMENT"};
    case StatusCode::kNotFound:
      return {404, 5, "NOT_FOUND"};
    case StatusCode::kTooLarge:
      return {413, 8, "RESOURCE_EXHAUSTED"};
    case StatusCode::kResourceExhausted:
      return {429, 8, "RESOURCE_EXHAUSTED"};
    case StatusCode::kUnavailable:
      return {503, 14, "UNAVAILABLE"};
    case StatusCode::kDeadlineExceeded:
      return {504, 4, "DEADLINE_EXCEEDED"};
    case StatusCode::kUnauthenticated:
      return {401, 16, "UNAUTHENTICATED"};
    case StatusCode::kPermissionDenied:
      return {403, 7, "PERMISSION_DENIED"};
    case StatusCode::kInternal:
      return {500, 13, "INTERNAL"};
    // 499 (nginx's "client closed request"): nobody reads it, but logs do.
    case StatusCode::kCancelled:
      return {499, 1, "CANCELLED"};
  }
  return {500, 13, "INTERNAL"};
}

}  // namespace

int HttpStatusOf(StatusCode code) { return RowOf(code).http; }
int GrpcCodeOf(StatusCode code) { return RowOf(code).grpc; }
std::string_view GrpcCodeName(StatusCode code) { return RowOf(code).grpc_name; }

std::string BoundedErrorMessage(std::string_view message) {
  if (message.size() <= kMaxErrorMessageBytes) return std::string(message);
  static constexpr std::string_view kCut = "…";
  size_t keep = kMaxErrorMessageBytes - kCut.size();
  // Back up to the start of a UTF-8 sequence so the cut never splits one.
  while (keep > 0 && (static_cast<unsigned char>(message[keep]) & 0xC0) == 0x80) --keep;
  std::string out(message.substr(0, keep));
  // Whatever was invalid before the cut stays as it was; the caller's encoder
  // (JSON replace, gRPC percent-encoding) deals with it. Only the cut is ours.
  out += kCut;
  return out;
}

}  // namespace modelgate
