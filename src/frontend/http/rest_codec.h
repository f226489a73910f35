// The REST bodies of the KServe V2 infer endpoint and of the V1
// (TF-Serving row format) :predict endpoint, to and from InferRequest /
// InferResponse. Every error names what was wrong.
#pragma once

#include <string>
#include <string_view>

#include "modelgate/inference.h"
#include "modelgate/model_config.h"

namespace modelgate {

// {"id"?, "parameters"?, "inputs":[{name, shape, datatype, parameters?, data}],
//  "outputs"?:[{name, parameters?}]}
StatusOr<InferRequest> ParseV2InferRequest(std::string_view body);
std::string EncodeV2InferResponse(const InferResponse& response);

// {"instances": [row, ...]}: a row is an object keyed by input name, or (for a
// model with one input) that input's row, or (for a model whose inputs are
// all 1-D) an array of one value per input in declared order.
StatusOr<InferRequest> ParseV1PredictRequest(std::string_view body, const ModelConfig& config);
// {"predictions": [row, ...]}: a row is the output's row for a model with one
// output, else an object keyed by output name.
StatusOr<std::string> EncodeV1PredictResponse(const InferResponse& response);

}  // namespace modelgate
