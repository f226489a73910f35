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
// A shape against a declared one: same rank, -1 matches any size, and no
// dimension of `got` is negative.
bool ShapeMatches(const std::vector<int64_t>& declared, const std::vector<int64_t>& got);
Status ValidateRequestedOutputs(const ModelConfig& config, const std::vector<std::string>& names);

}  // namespace modelgate
