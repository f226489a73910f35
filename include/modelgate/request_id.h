// Request ids: the client's (x-request-id header or the V2 "id"), else one
// generated here, unique per daemon run. Thread-safe.
#pragma once

#include <string>

namespace modelgate {

std::string NewRequestId();

}  // namespace modelgate
