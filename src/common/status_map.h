// The one table that maps a StatusCode to what each protocol puts on the
// wire. Front ends must use these and never pick codes of their own.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "modelgate/status.h"

namespace modelgate {

// HTTP status code (400, 404, 413, 429, 503, 504, 401, 403, 500; 200 for OK).
int HttpStatusOf(StatusCode code);

// Numeric gRPC status code (the values of grpc::StatusCode / google.rpc.Code).
int GrpcCodeOf(StatusCode code);

// Longest error message put on the wire (HTTP body, gRPC status message);
// a message that echoes client or model text cannot grow past it.
inline constexpr size_t kMaxErrorMessageBytes = 1024;

// `message` cut to at most kMaxErrorMessageBytes at a UTF-8 boundary, ending
// in "…" when cut. Used where a Status becomes a wire error.
std::string BoundedErrorMessage(std::string_view message);

// Canonical gRPC code name, e.g. "INVALID_ARGUMENT"; used in logs and metrics.
std::string_view GrpcCodeName(StatusCode code);

}  // namespace modelgate
