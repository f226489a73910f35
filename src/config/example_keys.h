// The "examples" key of config.json: requests with the outputs they must
// give, run by `modelgate check` (src/check/). The model's key table
// (model_config_keys.cc) calls these parsers; the README documents the tables.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "config/config_keys.h"
#include "modelgate/model_config.h"

namespace modelgate {

// The keys of each "examples" entry, and of each entry of its "outputs".
std::span<const Key<ExampleRequest>> ExampleRequestKeys();
std::span<const Key<Tensor>> ExampleOutputKeys();

// At most kMaxExamples entries, each {inputs, outputs, tolerance?}: inputs as
// in "warmup", outputs as [{name, data}] with distinct names.
bool ParseExamples(Checker& c, const nlohmann::json& j, const std::string& path,
                   std::vector<ExampleRequest>* out);

// Expected data (an array, flat or nested, of all numbers, all strings or all
// booleans; null, "NaN", "Infinity", "-Infinity" among numbers) into `t`:
// BOOL, INT64 (every number an integer that fits), FP64 or BYTES, shaped by
// the JSON nesting. Fails naming `path` and what is wrong.
bool ParseExpectedData(Checker& c, const nlohmann::json& data, const std::string& path, Tensor& t);

// The rule across keys: every example sends each declared input once, with
// its declared datatype and shape (as warm-up requests do), and expects only
// declared outputs when the config declares any.
bool CheckExamples(Checker& c, const ModelConfig& m);

}  // namespace modelgate
