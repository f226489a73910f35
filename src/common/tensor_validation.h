// The one validator for tensors crossing a trust boundary: a client's input
// (REST V2, V1, gRPC) before anything is allocated from its shape or sent to
// a worker, and a worker's output before any encoder reads it. Every path
// uses it, so a shape one front end rejects is rejected by all, in the same
// words. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "modelgate/status.h"
#include "modelgate/tensor.h"

namespace modelgate {

// Dimensions a tensor may have (Triton's own limit is 64; no model here
// needs more than a handful).
inline constexpr size_t kMaxTensorRank = 16;
// An output with a 0 dimension holds no data, yet its nested JSON form has
// one (empty) array per index of the dims before the 0: [n,0] is n empty
// rows. Bounding n keeps what an encoder writes proportional to what the
// worker actually sent.
inline constexpr int64_t kMaxEmptyOutputRows = 65536;

// Product of the dims (1 for a scalar); nullopt if a dim is negative or the
// product overflows int64 ([2^62,4] must not wrap to 0).
std::optional<int64_t> CheckedElementCount(const std::vector<int64_t>& shape);

// Who sent a tensor: decides the status code and the wording of errors.
enum class TensorSource {
  kClient,  // a request input: INVALID_ARGUMENT, "input 'x': ..."
  kWorker,  // a model output: INTERNAL, "model 'm' output 'y': ..."
};

// Checks the shape alone, before any data is read or allocated: rank, no
// negative dim, an element count that fits int64; for a client, at least one
// element; for a worker, an empty tensor's rows bounded (see above).
// Returns the element count. `model` names the model in worker errors.
StatusOr<int64_t> ValidateShape(const Tensor& t, TensorSource source, std::string_view model = {});

// ValidateShape, then the payload: exactly the element count, and for
// numeric datatypes a whole number of elements in `raw`.
Status ValidateTensor(const Tensor& t, TensorSource source, std::string_view model = {});

}  // namespace modelgate
