// KServe V2 gRPC messages to and from InferRequest / InferResponse. Typed
// `contents` and `raw_input_contents` are both accepted; BYTES in raw form are
// 4-byte little-endian lengths each followed by the bytes (Triton's layout).
#pragma once

#include <chrono>
#include <optional>

#include "grpc_predict_v2.pb.h"
#include "modelgate/inference.h"

namespace modelgate {

// Checks the request's id, shapes and data (tensor_validation.h) before
// copying any payload: every error is INVALID_ARGUMENT naming the input.
StatusOr<InferRequest> FromGrpc(const inference::ModelInferRequest& request);

// The request's "timeout" parameter in microseconds, as Triton reads it over
// gRPC too; none when absent. INVALID_ARGUMENT unless a positive integer.
// The front end keeps the earlier of it and the call's gRPC deadline.
StatusOr<std::optional<std::chrono::microseconds>> TimeoutParameter(
    const inference::ModelInferRequest& request);

// Fills `out`; raw_output_contents when `raw` or when an output is FP16/BF16
// (no typed field carries those), else typed contents.
void ToGrpc(InferResponse&& response, bool raw, inference::ModelInferResponse* out);

}  // namespace modelgate
