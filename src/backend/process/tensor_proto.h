// Moves tensors between the daemon's Tensor and the worker protocol's Tensor.
#pragma once

#include "modelgate/status.h"
#include "modelgate/tensor.h"
#include "worker.pb.h"

namespace modelgate {

void MoveToProto(Tensor&& from, worker::v1::Tensor* to);

// Validates what a worker sent: a known datatype and a payload that matches
// the shape.
StatusOr<Tensor> MoveFromProto(worker::v1::Tensor&& from);

}  // namespace modelgate
