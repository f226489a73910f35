// Tensor data as JSON arrays (KServe V2 REST "data", V1 rows, the inputs of
// config.json's "warmup"): row-major, flat or nested. Decoding checks every element's JSON type and
// range against the datatype and names the input in every error.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modelgate/status.h"
#include "modelgate/tensor.h"

namespace modelgate {

// Deepest nesting of arrays and objects a request body may have. The REST
// codec rejects deeper text before parsing; AppendJsonData recurses at most
// this deep.
inline constexpr size_t kMaxJsonDepth = 64;

// Checks JSON text before it is parsed: nesting depth at most kMaxJsonDepth
// and no NUL byte (an error names the offset). Whatever the text's source
// (a request body, a config parameter), nothing deeper reaches a parser or
// a recursive walk.
Status CheckJsonText(std::string_view text);

// Appends the elements of `data` (a scalar, or an array nested up to
// kMaxJsonDepth) to `t` (raw bytes, or strings for BYTES) according to
// t.datatype. What it appends is what `data` holds: nothing is sized from a
// declared shape. Float (FP32/FP64) data also take the missing values as
// json_writer.h writes them: null (NA), "NaN", "Infinity", "-Infinity".
Status AppendJsonData(const nlohmann::json& data, Tensor& t);

// The shape of a JSON value: [] for a scalar, [n, ...] for an array whose n
// items all have the same shape; nullopt for a ragged array or an object.
std::optional<std::vector<int64_t>> JsonShape(const nlohmann::json& v);

// A short description of a JSON value for error messages: a scalar's text
// (strings cut), or "an array"/"an object", so an error never echoes a body.
std::string DescribeJson(const nlohmann::json& v);

}  // namespace modelgate
