// The request and response that both front ends hand to the core, in the
// daemon's own terms (no protocol types), and the callback that answers.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "modelgate/status.h"
#include "modelgate/tensor.h"
#include "modelgate/time_source.h"

namespace modelgate {

// x-modelgate-route-key values longer than this are cut before hashing.
inline constexpr size_t kMaxRouteKeyBytes = 256;

struct InferRequest {
  std::string model;
  std::string version;  // empty: the model's traffic split, else the highest version
  // x-modelgate-route-key: pins an unversioned request's traffic split.
  std::string route_key;
  std::string id;  // the client's request id, echoed back
  std::vector<Tensor> inputs;
  std::vector<std::string> requested_outputs;  // empty: every output
  // The client's deadline (gRPC deadline, V2 "timeout" parameter), if any;
  // the core caps it by the model's max and falls back to its default.
  std::optional<SteadyTime> deadline;
};

struct InferResponse {
  std::string model;
  std::string version;
  std::string id;
  std::vector<Tensor> outputs;
};

// Called exactly once per request, on the daemon's I/O thread.
using InferCallback = std::function<void(StatusOr<InferResponse>)>;

// Lets a front end withdraw a request whose client cancelled or went away.
// Thread-safe; cancelling an answered request does nothing.
class InferHandle {
 public:
  virtual ~InferHandle() = default;
  virtual void Cancel() = 0;
};

}  // namespace modelgate
