// The request and response that both front ends hand to the core, in the
// daemon's own terms (no protocol types), and the callback that answers.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "modelgate/status.h"
#include "modelgate/tensor.h"

namespace modelgate {

struct InferRequest {
  std::string model;
  std::string version;  // empty: the highest version
  std::string id;       // the client's request id, echoed back
  std::vector<Tensor> inputs;
  std::vector<std::string> requested_outputs;  // empty: every output
};

struct InferResponse {
  std::string model;
  std::string version;
  std::string id;
  std::vector<Tensor> outputs;
};

// Called exactly once per request, on the daemon's I/O thread.
using InferCallback = std::function<void(StatusOr<InferResponse>)>;

}  // namespace modelgate
