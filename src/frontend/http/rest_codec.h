// The REST bodies of the KServe V2 infer endpoint and of the V1
// (TF-Serving row format) :predict endpoint, to and from InferRequest /
// InferResponse. Every error names what was wrong.
//
// Parsing trusts nothing: the body is pre-scanned (nesting depth at most
// kMaxJsonDepth, no NUL byte, nothing but whitespace after the document),
// ids are checked (request_id.h), shapes and data are checked by the shared
// tensor validator before anything is sized from them. Encoding checks
// worker outputs the same way and stops at kMaxJsonResponseBytes.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/limits.h"
#include "modelgate/inference.h"
#include "modelgate/model_config.h"
#include "modelgate/time_source.h"

namespace modelgate {

// Largest JSON response body the encoders write. A worker frame holds at
// most kMaxFrameBytes of data; its JSON form is a few times that.
inline constexpr size_t kJsonExpansionFactor = 4;
inline constexpr size_t kMaxJsonResponseBytes = kJsonExpansionFactor * kMaxFrameBytes;

// {"id"?, "parameters"?, "inputs":[{name, shape, datatype, parameters?, data}],
//  "outputs"?:[{name, parameters?}]}
// A parameters.timeout (microseconds) becomes a deadline counted from `now`.
// With `json_bytes` (the Inference-Header-Content-Length header), the body
// is that many bytes of JSON followed by binary tensor data
// (binary_tensor.h): each input with parameters.binary_data_size (and no
// "data") takes the next that many bytes, and the sizes must add up to
// exactly the bytes after the JSON. Outputs' "binary_data" and the request's
// "binary_data_output" fill InferRequest::binary_outputs.
StatusOr<InferRequest> ParseV2InferRequest(std::string_view body, SteadyTime now,
                                           std::optional<size_t> json_bytes = std::nullopt);
// INTERNAL (naming model and output) for an output the worker got wrong,
// a BYTES element that is not UTF-8, or a body over kMaxJsonResponseBytes.
StatusOr<std::string> EncodeV2InferResponse(const InferResponse& response);

// A V2 response body with binary outputs: the JSON document, then the
// binary data of each output `binary` selects, in output order (each of
// those outputs has parameters.binary_data_size instead of "data"). With no
// output selected, `body` is the JSON alone and json_bytes is empty.
struct V2ResponseBody {
  std::string body;
  std::optional<size_t> json_bytes;  // the response's Inference-Header-Content-Length
};
StatusOr<V2ResponseBody> EncodeV2InferResponse(const InferResponse& response,
                                               const BinaryOutputs& binary);

// The repository load body, Triton's shape: empty, or {"parameters":
// {"config": "<a config.json as a JSON string>"}}. Returns the config text
// (checked for depth and NULs, not yet for keys), nullopt without one. Other
// parameters are refused by name, never ignored.
StatusOr<std::optional<std::string>> ParseRepositoryLoadRequest(std::string_view body);

// {"instances": [row, ...]}: a row is an object keyed by input name, or (for a
// model with one input) that input's row, or (for a model whose inputs are
// all 1-D) an array of one value per input in declared order. Each input's
// row must have exactly the shape the model declares after its first dim.
// Or TF-Serving's columnar form {"inputs": ...} (rest_v1_columnar.h), which
// sets *columnar (when given) so the answer can be columnar too; a body with
// both keys is refused.
StatusOr<InferRequest> ParseV1PredictRequest(std::string_view body, const ModelConfig& config,
                                             bool* columnar = nullptr);
// {"predictions": [row, ...]}: a row is the output's row for a model with one
// output, else an object keyed by output name.
StatusOr<std::string> EncodeV1PredictResponse(const InferResponse& response);

}  // namespace modelgate
