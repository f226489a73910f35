// Moves tensors between the daemon's Tensor and the worker protocol's Tensor.
#pragma once

#include <string_view>

#include "modelgate/parameters.h"
#include "modelgate/status.h"
#include "modelgate/tensor.h"
#include "worker.pb.h"

namespace modelgate {

void MoveToProto(Tensor&& from, worker::v1::Tensor* to);

// Appends `parameters` to the Infer frame, in key order.
void ParametersToProto(const Parameters& parameters, worker::v1::Infer* to);

// Validates what a worker sent before anything reads it: a known datatype and
// a shape and payload that pass ValidateTensor (tensor_validation.h) as a
// worker output. Errors are INTERNAL naming `model`, the output and its shape.
StatusOr<Tensor> MoveFromProto(worker::v1::Tensor&& from, std::string_view model = {});

}  // namespace modelgate
