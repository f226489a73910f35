#include "modelgate/tensor.h"

#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include "common/tensor_validation.h"

namespace modelgate {

namespace {

struct TypeInfo {
  DataType type;
  std::string_view name;
  size_t size;
};

constexpr std::array<TypeInfo, 14> kTypes = {{
    {DataType::kBool, "BOOL", 1},
    {DataType::kUint8, "UINT8", 1},
    {DataType::kUint16, "UINT16", 2},
    {DataType::kUint32, "UINT32", 4},
    {DataType::kUint64, "UINT64", 8},
    {DataType::kInt8, "INT8", 1},
    {DataType::kInt16, "INT16", 2},
    {DataType::kInt32, "INT32", 4},
    {DataType::kInt64, "INT64", 8},
    {DataType::kFp16, "FP16", 2},
    {DataType::kFp32, "FP32", 4},
    {DataType::kFp64, "FP64", 8},
    {DataType::kBytes, "BYTES", 0},
    {DataType::kBf16, "BF16", 2},
}};

// Calls f(T{}) with the C++ type of a numeric or BOOL datatype; false if the
// datatype has none (BYTES, FP16, BF16).
template <typename F>
bool VisitNumeric(DataType type, F&& f) {
  switch (type) {
    case DataType::kBool:
      f(bool{});
      return true;
    case DataType::kUint8:
      f(uint8_t{});
      return true;
    case DataType::kUint16:
      f(uint16_t{});
      return true;
    case DataType::kUint32:
      f(uint32_t{});
      return true;
    case DataType::kUint64:
      f(uint64_t{});
      return true;
    case DataType::kInt8:
      f(int8_t{});
      return true;
    case DataType::kInt16:
      f(int16_t{});
      return true;
    case DataType::kInt32:
      f(int32_t{});
      return true;
    case DataType::kInt64:
      f(int64_t{});
      return true;
    case DataType::kFp32:
      f(float{});
      return true;
    case DataType::kFp64:
      f(double{});
      return true;
    default:
      return false;
  }
}

}  // namespace

std::optional<DataType> ParseDataType(std::string_view name) {
  for (const auto& t : kTypes) {
    if (t.name == name) return t.type;
  }
  return std::nullopt;
}

std::string_view DataTypeName(DataType type) { return kTypes[static_cast<size_t>(type)].name; }

size_t ElementSize(DataType type) { return kTypes[static_cast<size_t>(type)].size; }

int64_t Tensor::ElementCount() const { return CheckedElementCount(shape).value_or(-1); }

int64_t Tensor::HeldElements() const {
  if (datatype == DataType::kBytes) return static_cast<int64_t>(strings.size());
  return static_cast<int64_t>(raw.size() / ElementSize(datatype));
}

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size() && i < kMaxShapeStringDims; ++i) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  if (shape.size() > kMaxShapeStringDims) s += ",…(" + std::to_string(shape.size()) + " dims)";
  return s + "]";
}

Status CastTensor(Tensor& tensor, DataType to) {
  if (tensor.datatype == to) return Status::Ok();
  std::string out;
  int64_t lossy = -1;  // first element without a value in `to`
  double bad_value = 0;
  bool ok = VisitNumeric(tensor.datatype, [&](auto from_v) {
    using From = decltype(from_v);
    VisitNumeric(to, [&](auto to_v) {
      using To = decltype(to_v);
      const size_t n = tensor.raw.size() / sizeof(From);
      out.resize(n * sizeof(To));
      for (size_t i = 0; i < n && lossy < 0; ++i) {
        From f;
        std::memcpy(&f, tensor.raw.data() + i * sizeof(From), sizeof(From));
        // A float that is NaN, infinite or out of the integer's range has no
        // integer value (and the C++ cast would be undefined), and an integer
        // out of range would wrap: refuse both rather than answer wrongly.
        if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To> &&
                      !std::is_same_v<To, bool>) {
          // 2^digits is one past the largest value, exactly representable.
          const From limit = std::ldexp(From{1}, std::numeric_limits<To>::digits);
          const From whole = std::trunc(f);
          const From low = std::is_signed_v<To> ? -limit : From{0};
          if (!(whole >= low && whole < limit)) {
            lossy = static_cast<int64_t>(i);
            bad_value = static_cast<double>(f);
            continue;
          }
        }
        if constexpr (std::is_integral_v<From> && !std::is_same_v<From, bool> &&
                      std::is_integral_v<To> && !std::is_same_v<To, bool>) {
          if (!std::in_range<To>(f)) {  // an integer that would wrap
            lossy = static_cast<int64_t>(i);
            bad_value = static_cast<double>(f);
            continue;
          }
        }
        To t = static_cast<To>(f);
        std::memcpy(out.data() + i * sizeof(To), &t, sizeof(To));
      }
    });
  });
  if (lossy >= 0) {
    return Internal("output '" + tensor.name + "': element " + std::to_string(lossy) + " (" +
                    std::to_string(bad_value) + ") has no " + std::string(DataTypeName(to)) +
                    " value; declare the output with a datatype that holds it");
  }
  if (!ok || !VisitNumeric(to, [](auto) {})) {
    return Internal("output '" + tensor.name + "': cannot convert " +
                    std::string(DataTypeName(tensor.datatype)) + " to " +
                    std::string(DataTypeName(to)));
  }
  tensor.raw = std::move(out);
  tensor.datatype = to;
  return Status::Ok();
}

}  // namespace modelgate
