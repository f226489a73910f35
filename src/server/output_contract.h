// The output contract: the one place where a worker's outputs are checked
// against the model version's declared outputs before any front end encodes
// them. Every check that fails is INTERNAL (500): the model broke its own
// config, the client did nothing wrong. Errors name model, version and
// output, and what was declared and received.
//
// Declared outputs (config "outputs" not empty):
//  - each requested (all when none are requested) declared output must be
//    returned; a missing one's error lists what the model did return;
//  - its datatype must be the declared one, or a numeric/BOOL datatype that
//    converts to it with every value kept (R has only double, integer and
//    logical; CastTensor refuses a lossy value, naming the element); BYTES
//    never converts to or from a number;
//  - its shape must match the declared shape (-1 matches any size), and
//    under dynamic batching its dim 0 must be the request's rows;
//  - outputs the config does not declare are dropped (as Triton serves only
//    declared outputs: the metadata a client reads is the whole answer) and
//    logged once per model version with their names.
// Without declared outputs every returned output is served as it is, and a
// requested name the model did not return is INVALID_ARGUMENT.
//
// Thread-safe: Apply may run on any thread; one object per model version.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "modelgate/model_config.h"
#include "modelgate/tensor.h"

namespace modelgate {

class OutputContract {
 public:
  // Checks `outputs` of `config`'s model, version `version`, and keeps the
  // requested ones in declared order, converted to their declared datatypes.
  // `batch_rows`: the request's dim 0 when the model batches (its outputs'
  // dim 0 must equal it); nullopt otherwise.
  Status Apply(const ModelConfig& config, int64_t version,
               const std::vector<std::string>& requested, std::optional<int64_t> batch_rows,
               std::vector<Tensor>& outputs);

 private:
  std::atomic<bool> undeclared_logged_{false};
};

}  // namespace modelgate
