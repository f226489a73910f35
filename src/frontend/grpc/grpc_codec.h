// KServe V2 gRPC messages to and from InferRequest / InferResponse. Typed
// `contents` and `raw_input_contents` are both accepted; BYTES in raw form are
// 4-byte little-endian lengths each followed by the bytes (Triton's layout).
#pragma once

#include "grpc_predict_v2.pb.h"
#include "modelgate/inference.h"

namespace modelgate {

StatusOr<InferRequest> FromGrpc(const inference::ModelInferRequest& request);

// Fills `out`; raw_output_contents when `raw`, else typed contents.
void ToGrpc(InferResponse&& response, bool raw, inference::ModelInferResponse* out);

}  // namespace modelgate
