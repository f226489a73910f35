// Triton's model configuration and statistics extensions: modelgate's
// config.json (modelgate/model_config.h) and per-version counts
// (modelgate/model_statistics.h) in the messages of Triton's
// model_config.proto and grpc_service.proto, for gRPC as they are and for
// REST as Triton's JSON (protobuf field names, 64-bit numbers as numbers).
// Pure functions; any thread.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "grpc_predict_v2.pb.h"
#include "modelgate/model_config.h"
#include "modelgate/model_statistics.h"

namespace modelgate {

// The server metadata's `extensions` (REST and gRPC): Triton's names of the
// extensions that work. Streaming (ModelStreamInfer) has no name there. Left
// out on purpose, answered UNIMPLEMENTED / 404: system_shared_memory,
// cuda_shared_memory, trace, logging.
inline constexpr std::array<std::string_view, 5> kServerExtensions = {
    "model_repository", "binary_tensor_data", "model_configuration", "statistics", "parameters"};

// The model's config as Triton describes it: name; platform "modelgate_r" /
// "modelgate_python" (as in the model metadata) and backend "r" / "python";
// max_batch_size (0 without dynamic batching); inputs and outputs with TYPE_*
// (BYTES is TYPE_STRING) and dims (-1: any size) where, as in Triton, a
// batching model's dims leave out the batch dimension; dynamic_batching;
// one KIND_CPU instance group counting the workers; the version policy.
inference::ModelConfig ToTritonConfig(const ModelConfig& config);

inference::DataType ToTritonDataType(DataType type);

// One ModelStatistics per entry; cache and compute_input/output are zero
// (modelgate has no response cache, and a worker call is one step);
// batch_stats has compute_infer per number of requests a worker call served.
inference::ModelStatisticsResponse ToTritonStatistics(const std::vector<ModelVersionStats>& stats);

// Triton's REST JSON of a message: proto field names, default values printed,
// and 64-bit integers (dims, counts, ns, ...) as JSON numbers instead of the
// strings protobuf's JSON mapping uses.
std::string ToTritonJson(const google::protobuf::Message& message);

}  // namespace modelgate
