// Tensor: the value type that carries inputs and outputs through the daemon.
// Numeric and BOOL data are raw little-endian row-major bytes in `raw` (BOOL
// one byte per element); BYTES data are one std::string per element in
// `strings`. Front ends fill it, workers consume it; it is moved, not copied,
// along the hot path.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modelgate/status.h"

namespace modelgate {

enum class DataType {
  kBool,
  kUint8,
  kUint16,
  kUint32,
  kUint64,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kFp16,
  kFp32,
  kFp64,
  kBytes,
  kBf16,
};

// "FP64" -> kFp64; nullopt for anything that is not a V2 datatype name.
std::optional<DataType> ParseDataType(std::string_view name);
std::string_view DataTypeName(DataType type);
// Bytes per element in `raw`; 0 for BYTES.
size_t ElementSize(DataType type);

struct Tensor {
  std::string name;
  DataType datatype = DataType::kFp64;
  std::vector<int64_t> shape;
  std::string raw;
  std::vector<std::string> strings;

  // Product of the shape (1 for a scalar); -1 if any dim is negative or the
  // product overflows int64. Validate untrusted shapes with ValidateShape
  // (tensor_validation.h) before relying on it.
  int64_t ElementCount() const;
  // Elements actually held: raw.size() / ElementSize, or strings.size().
  int64_t HeldElements() const;
};

// "[2,4]" for messages; a shape of more than kMaxShapeStringDims dims is cut
// ("[1,1,…(200000 dims)]") so an absurd shape cannot blow up an error.
inline constexpr size_t kMaxShapeStringDims = 8;
std::string ShapeString(const std::vector<int64_t>& shape);

// Converts a numeric or BOOL tensor to another numeric or BOOL datatype
// (e.g. a worker's FP64 to the FP32 a model config declares).
Status CastTensor(Tensor& tensor, DataType to);

}  // namespace modelgate
