#include "modelgate/tensor.h"

#include <array>
#include <cstring>
#include <type_traits>

#include "modelgate/tensor_validation.h"

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
  bool ok = VisitNumeric(tensor.datatype, [&](auto from_v) {
    using From = decltype(from_v);
    VisitNumeric(to, [&](auto to_v) {
      using To = decltype(to_v);
      const size_t n = tensor.raw.size() / sizeof(From);
      out.resize(n * sizeof(To));
      for (size_t i = 0; i < n; ++i) {
        From f;
        std::memcpy(&f, tensor.raw.data() + i * sizeof(From), sizeof(From));
        To t = static_cast<To>(f);
        std::memcpy(out.data() + i * sizeof(To), &t, sizeof(To));
      }
    });
  });
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
