#include "modelgate/status.h"

#include "common/status_map.h"

namespace modelgate {

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(GrpcCodeName(code_)) + ": " + message_;
}

}  // namespace modelgate
