// The one table that maps a StatusCode to what each protocol puts on the
// wire. Front ends must use these and never pick codes of their own.
#pragma once

#include <string_view>

#include "modelgate/status.h"

namespace modelgate {

// HTTP status code (400, 404, 413, 429, 503, 504, 401, 403, 500; 200 for OK).
int HttpStatusOf(StatusCode code);

// Numeric gRPC status code (the values of grpc::StatusCode / google.rpc.Code).
int GrpcCodeOf(StatusCode code);

// Canonical gRPC code name, e.g. "INVALID_ARGUMENT"; used in logs and metrics.
std::string_view GrpcCodeName(StatusCode code);

}  // namespace modelgate
