// Tensor data as JSON arrays (KServe V2 REST "data", V1 rows): row-major,
// flat or nested. Decoding checks every element's JSON type and range against
// the datatype and names the input in every error.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "modelgate/status.h"
#include "modelgate/tensor.h"

namespace modelgate {

// Appends the elements of `data` (a scalar, or an array nested to any depth)
// to `t` (raw bytes, or strings for BYTES) according to t.datatype.
Status AppendJsonData(const nlohmann::json& data, Tensor& t);

// The same elements nested by `row_shape` (the shape without its first dim);
// a scalar when row_shape is empty.
nlohmann::json JsonRow(const Tensor& t, int64_t row, const std::vector<int64_t>& row_shape);

}  // namespace modelgate
