// The request and response that both front ends hand to the core, in the
// daemon's own terms (no protocol types), and the callback that answers.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modelgate/parameters.h"
#include "modelgate/status.h"
#include "modelgate/tensor.h"
#include "modelgate/time_source.h"

namespace modelgate {

// x-modelgate-route-key values longer than this are cut before hashing.
inline constexpr size_t kMaxRouteKeyBytes = 256;

// The outputs a REST client asked to receive as binary data after the JSON
// (Triton's binary tensor data extension): a listed output's own
// "binary_data" wins, else the request's "binary_data_output". Only the REST
// front end reads it; the core carries it untouched.
struct BinaryOutputs {
  bool all = false;              // parameters.binary_data_output
  std::vector<std::string> on;   // outputs[].parameters.binary_data: true
  std::vector<std::string> off;  // outputs[].parameters.binary_data: false
  bool Binary(std::string_view output) const {
    auto named = [output](const std::string& s) { return s == output; };
    if (std::any_of(on.begin(), on.end(), named)) return true;
    if (std::any_of(off.begin(), off.end(), named)) return false;
    return all;
  }
};

struct InferRequest {
  std::string model;
  std::string version;  // empty: the model's traffic split, else the highest version
  // x-modelgate-route-key: pins an unversioned request's traffic split.
  std::string route_key;
  std::string id;  // the client's request id, echoed back
  std::vector<Tensor> inputs;
  std::vector<std::string> requested_outputs;  // empty: every output
  // The client's parameters for the model (daemon-owned keys stripped).
  Parameters parameters;
  BinaryOutputs binary_outputs;  // REST only
  // The client's deadline (gRPC deadline, V2 "timeout" parameter), if any;
  // the core caps it by the model's max and falls back to its default.
  std::optional<SteadyTime> deadline;
  // The caller takes `done` on its own thread, from inside Infer, for an
  // answer that needs no worker (a rejection, a cache hit): the gRPC front
  // end, whose callback threads need not cross to the io thread and back
  // for it. Otherwise every answer comes on the io thread.
  bool answer_inline = false;
};

struct InferResponse {
  std::string model;
  std::string version;
  std::string id;
  std::vector<Tensor> outputs;
};

// Called exactly once per request, on the daemon's I/O thread (or inline:
// InferRequest::answer_inline).
using InferCallback = std::function<void(StatusOr<InferResponse>)>;

// Lets a front end withdraw a request whose client cancelled or went away.
// Thread-safe; cancelling an answered request does nothing.
class InferHandle {
 public:
  virtual ~InferHandle() = default;
  virtual void Cancel() = 0;
};

}  // namespace modelgate
