// Triton's ModelConfig JSON (model_config.proto as protobuf's JSON mapping,
// what tritonclient's load_model(config=...) sends and what
// GET /v2/models/{m}/config answers) as modelgate config.json keys, so a
// load request may carry either shape.
#pragma once

#include <nlohmann/json.hpp>

#include "modelgate/status.h"

namespace modelgate {

// True when `j` is in Triton's shape: an object with any of Triton's own keys
// (input, output, platform, instance_group) and none of modelgate's
// inputs/outputs.
bool IsTritonModelConfig(const nlohmann::json& j);

// The modelgate config.json keys for a Triton ModelConfig:
//   backend | platform modelgate_r/modelgate_python -> backend
//   input[] / output[] {name, data_type TYPE_*, dims, optional} -> inputs /
//     outputs {name, datatype, shape, optional}; with max_batch_size > 0 the
//     batch dimension -1 leads the shape (Triton's dims describe one row)
//   dynamic_batching {preferred_batch_size, max_queue_delay_microseconds}
//     with max_batch_size -> dynamic_batching
//   instance_group[].count (KIND_CPU / KIND_AUTO) summed -> workers
//   version_policy {latest | all | specific} -> version_policy
// 64-bit numbers may be JSON strings, as protobuf writes them. Fields that
// have no modelgate meaning are accepted only at their default (false, 0,
// "", [], {}); anything else is INVALID_ARGUMENT naming the field, e.g.
// "input[1].data_type: 'TYPE_FOO' is not a Triton data type".
StatusOr<nlohmann::json> FromTritonModelConfig(const nlohmann::json& j);

}  // namespace modelgate
