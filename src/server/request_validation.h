// Checks a request against its model's declared inputs and outputs before
// anything is queued, so bad input is answered 400 / INVALID_ARGUMENT with a
// message that names the input, and never reaches a worker.
#pragma once

#include <string>
#include <vector>

#include "modelgate/model_config.h"
#include "modelgate/tensor.h"

namespace modelgate {

// Every input not declared optional must be present; an optional one may be
// omitted (it then reaches the worker absent). Also runs the shared tensor validator
// (tensor_validation.h) on every input, whichever front end built it.
Status ValidateInputs(const ModelConfig& config, const std::vector<Tensor>& inputs);
Status ValidateRequestedOutputs(const ModelConfig& config, const std::vector<std::string>& names);

// Keeps the requested outputs (all when `requested` is empty), in the order
// declared, converting each to its declared datatype. A malformed output
// (shape, payload) or two outputs of one name is INTERNAL naming the model
// and the output; a requested output that a model without declared outputs
// did not return is INVALID_ARGUMENT naming it.
Status ShapeOutputs(const ModelConfig& config, const std::vector<std::string>& requested,
                    std::vector<Tensor>& outputs);

}  // namespace modelgate
