// Tensor: the value type that carries inputs and outputs through the daemon.
// Numeric and BOOL data are raw little-endian row-major bytes in `raw` (BOOL
// one byte per element); BYTES data are one std::string per element in
// `strings`. Front ends fill it, workers consume it; it is moved, not copied,
// along the hot path.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
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

// Element types of FP16 and BF16 as they sit in Tensor::raw: the 16 bits,
// little-endian (C++20 has no half-precision arithmetic type). Widen them
// with ToFloat and narrow with FromFloat (common/half_float.h).
struct Fp16 {
  uint16_t bits;
};
struct Bf16 {
  uint16_t bits;
};
static_assert(sizeof(Fp16) == 2 && sizeof(Bf16) == 2, "an element is its 16 bits");

template <class T>
inline constexpr bool kIsHalfFloat = std::is_same_v<T, Fp16> || std::is_same_v<T, Bf16>;

// The one DataType -> C++ element type dispatch: calls
// f(std::type_identity<T>{}) and returns what f returns, where T is bool
// (BOOL: one byte, 0 or 1), uint8_t..uint64_t, int8_t..int64_t, float (FP32),
// double (FP64), Fp16, Bf16 (16-bit storage types, not arithmetic) or
// std::string (BYTES: elements in Tensor::strings, not raw). Every branch of
// f is instantiated, so f must handle each T (if constexpr); a DataType
// outside the enum aborts (only ParseDataType makes DataTypes from input).
template <class F>
decltype(auto) VisitDataType(DataType type, F&& f) {
  switch (type) {
    case DataType::kBool:
      return f(std::type_identity<bool>{});
    case DataType::kUint8:
      return f(std::type_identity<uint8_t>{});
    case DataType::kUint16:
      return f(std::type_identity<uint16_t>{});
    case DataType::kUint32:
      return f(std::type_identity<uint32_t>{});
    case DataType::kUint64:
      return f(std::type_identity<uint64_t>{});
    case DataType::kInt8:
      return f(std::type_identity<int8_t>{});
    case DataType::kInt16:
      return f(std::type_identity<int16_t>{});
    case DataType::kInt32:
      return f(std::type_identity<int32_t>{});
    case DataType::kInt64:
      return f(std::type_identity<int64_t>{});
    case DataType::kFp16:
      return f(std::type_identity<Fp16>{});
    case DataType::kFp32:
      return f(std::type_identity<float>{});
    case DataType::kFp64:
      return f(std::type_identity<double>{});
    case DataType::kBytes:
      return f(std::type_identity<std::string>{});
    case DataType::kBf16:
      return f(std::type_identity<Bf16>{});
  }
  std::abort();
}

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

// Converts a numeric (FP16 and BF16 included) or BOOL tensor to another
// numeric or BOOL datatype (e.g. a worker's FP64 to the FP32 or FP16 a model
// config declares). Refuses, naming the output and the element, a value the
// target cannot hold: a non-integral-range float or a wrapping integer for an
// integer target, NaN for a BOOL target, NA (common/missing_value.h) for a
// target other than FP32/FP64 (between which NA stays NA), and a finite
// value that overflows FP16/BF16. Narrowing to FP16/BF16 rounds to nearest
// even (FP64 through FP32).
Status CastTensor(Tensor& tensor, DataType to);

}  // namespace modelgate
