// Dynamic batching helpers: which requests can share one worker call, how
// their inputs are concatenated along dim 0, and how the model's outputs are
// split back so each caller gets exactly its own rows, in order.
#pragma once

#include <cstdint>
#include <vector>

#include "modelgate/parameters.h"
#include "modelgate/status.h"
#include "modelgate/tensor.h"

namespace modelgate {

// Rows of a request: dim 0 of its first input (-1 if it has no batch dim).
int64_t BatchRows(const std::vector<Tensor>& inputs);

// Same input names and datatypes, every input at least 1-D, equal dims
// after the first. The same names: with optional inputs, only requests that
// sent the same set of inputs batch together.
bool Batchable(const std::vector<Tensor>& a, const std::vector<Tensor>& b);

// Batchable inputs and equal parameters: the model sees one parameter set
// per call, so requests that differ in any parameter never share one.
bool Batchable(const std::vector<Tensor>& a, const Parameters& pa, const std::vector<Tensor>& b,
               const Parameters& pb);

// Concatenates each input along dim 0, in the order of `requests`; inputs
// are matched by name to the first request's order. Copies the payloads and
// leaves the requests whole: a batch the model fails runs each member again
// alone, on its own inputs.
std::vector<Tensor> ConcatBatch(const std::vector<const std::vector<Tensor>*>& requests);

// Splits each output along dim 0 into consecutive slices of `rows`. Every
// output must have dim 0 equal to the sum of `rows`.
StatusOr<std::vector<std::vector<Tensor>>> SplitBatch(std::vector<Tensor> outputs,
                                                      const std::vector<int64_t>& rows);

}  // namespace modelgate
