// TF-Serving's columnar form of the V1 :predict body, beside the row form
// ("instances", rest_codec.h):
//   {"inputs": {"<input>": <tensor>, ...}}  every declared input by name
//   {"inputs": <tensor>}                    a model with exactly one input
// A tensor is a JSON scalar or a (nested, not ragged) array; its shape is
// its own, with no batch dimension implied (unlike a row). Datatypes come
// from the model's declared inputs; the core then checks each tensor
// against the declared shape (request_validation.h) and names the input.
// The answer to a columnar request is columnar too:
//   {"outputs": <tensor>}                   a single output
//   {"outputs": {"<output>": <tensor>, ...}} several outputs
// each output nested by its full shape.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "modelgate/inference.h"
#include "modelgate/model_config.h"

namespace modelgate {

// `inputs`: the value of the body's "inputs" key.
StatusOr<InferRequest> ParseV1ColumnarInputs(const nlohmann::json& inputs,
                                             const ModelConfig& config);

// INTERNAL (naming the model and the output) for an output the worker got
// wrong, twice-named outputs or a body over kMaxJsonResponseBytes.
StatusOr<std::string> EncodeV1ColumnarResponse(const InferResponse& response);

}  // namespace modelgate
