// Compares a model's answer with an example's expected outputs (config
// "examples", model_config.h). Pure: no I/O, any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "modelgate/model_config.h"
#include "modelgate/tensor.h"

namespace modelgate {

// nullopt when every expected output is in `got` and matches; else the first
// mismatch, naming the output and, for a value, its element index (row-major,
// with the multi-index for rank > 1), expected and got values and the
// tolerance, e.g. "output 'prob' element 2: expected 0.5, got 0.51
// (tolerance 1e-06)".
// Rules: floats (FP16, BF16, FP32, FP64 answers) pass within
// |got - expected| <= tolerance * (1 + |expected|); NA matches only NA, NaN
// only NaN, infinities only themselves. Integer, BOOL and BYTES answers must
// equal exactly. Expected data nested deeper than one level must match the
// answer's shape; flat data its element count.
std::optional<std::string> ExampleMismatch(const ExampleRequest& example,
                                           const std::vector<Tensor>& got);

}  // namespace modelgate
