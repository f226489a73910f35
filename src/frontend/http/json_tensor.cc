#include "frontend/http/json_tensor.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace modelgate {

using nlohmann::json;

namespace {

std::string Where(const Tensor& t) { return "input '" + t.name + "': "; }

Status OutOfRange(const json& v, const Tensor& t) {
  return InvalidArgument(Where(t) + v.dump() + " is out of range for " +
                         std::string(DataTypeName(t.datatype)));
}

// Integers arrive as JSON integers, or as floats with an integral value
// (some clients write 3.0); anything else names the input and the value.
template <typename T>
Status IntegerOf(const json& v, const Tensor& t, T* out) {
  using Limits = std::numeric_limits<T>;
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(Limits::max())) return OutOfRange(v, t);
    *out = static_cast<T>(u);
    return Status::Ok();
  }
  if (v.is_number_integer()) {
    const int64_t i = v.get<int64_t>();
    if ((std::is_unsigned_v<T> && i < 0) ||
        (std::is_signed_v<T> && i < static_cast<int64_t>(Limits::min())) ||
        (sizeof(T) < 8 && i > static_cast<int64_t>(Limits::max()))) {
      return OutOfRange(v, t);
    }
    *out = static_cast<T>(i);
    return Status::Ok();
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::trunc(d) != d || std::abs(d) >= 9.0e15) {
      return InvalidArgument(Where(t) + std::string(DataTypeName(t.datatype)) +
                             " data must be integers, got " + v.dump());
    }
    if (d < static_cast<double>(Limits::lowest()) || d > static_cast<double>(Limits::max())) {
      return OutOfRange(v, t);
    }
    *out = static_cast<T>(d);
    return Status::Ok();
  }
  return InvalidArgument(Where(t) + std::string(DataTypeName(t.datatype)) +
                         " data must be integers, got " + v.dump());
}

template <typename T>
Status AppendNumber(const json& v, Tensor& t) {
  T out{};
  if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_boolean()) {
      return InvalidArgument(Where(t) + "BOOL data must be true or false, got " + v.dump());
    }
    out = v.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    if (Status s = IntegerOf(v, t, &out); !s.ok()) return s;
  } else {
    if (!v.is_number()) {
      return InvalidArgument(Where(t) + std::string(DataTypeName(t.datatype)) +
                             " data must be numbers, got " + v.dump());
    }
    out = static_cast<T>(v.get<double>());
  }
  t.raw.append(reinterpret_cast<const char*>(&out), sizeof out);
  return Status::Ok();
}

Status AppendOne(const json& v, Tensor& t) {
  switch (t.datatype) {
    case DataType::kBool:
      return AppendNumber<bool>(v, t);
    case DataType::kUint8:
      return AppendNumber<uint8_t>(v, t);
    case DataType::kUint16:
      return AppendNumber<uint16_t>(v, t);
    case DataType::kUint32:
      return AppendNumber<uint32_t>(v, t);
    case DataType::kUint64:
      return AppendNumber<uint64_t>(v, t);
    case DataType::kInt8:
      return AppendNumber<int8_t>(v, t);
    case DataType::kInt16:
      return AppendNumber<int16_t>(v, t);
    case DataType::kInt32:
      return AppendNumber<int32_t>(v, t);
    case DataType::kInt64:
      return AppendNumber<int64_t>(v, t);
    case DataType::kFp32:
      return AppendNumber<float>(v, t);
    case DataType::kFp64:
      return AppendNumber<double>(v, t);
    case DataType::kBytes:
      if (!v.is_string())
        return InvalidArgument(Where(t) + "BYTES data must be strings, got " + v.dump());
      t.strings.push_back(v.get<std::string>());
      return Status::Ok();
    default:
      return InvalidArgument(Where(t) + "datatype " + std::string(DataTypeName(t.datatype)) +
                             " is not supported in JSON; send it over gRPC as raw bytes");
  }
}

template <typename T>
json ElementJson(const Tensor& t, int64_t i) {
  T v;
  std::memcpy(&v, t.raw.data() + i * sizeof(T), sizeof(T));
  return json(v);
}

json Element(const Tensor& t, int64_t i) {
  switch (t.datatype) {
    case DataType::kBool:
      return json(t.raw[i] != 0);
    case DataType::kUint8:
      return ElementJson<uint8_t>(t, i);
    case DataType::kUint16:
      return ElementJson<uint16_t>(t, i);
    case DataType::kUint32:
      return ElementJson<uint32_t>(t, i);
    case DataType::kUint64:
      return ElementJson<uint64_t>(t, i);
    case DataType::kInt8:
      return ElementJson<int8_t>(t, i);
    case DataType::kInt16:
      return ElementJson<int16_t>(t, i);
    case DataType::kInt32:
      return ElementJson<int32_t>(t, i);
    case DataType::kInt64:
      return ElementJson<int64_t>(t, i);
    case DataType::kFp32:
      return ElementJson<float>(t, i);
    case DataType::kFp64:
      return ElementJson<double>(t, i);
    case DataType::kBytes:
      return json(t.strings[i]);
    default:
      return json(nullptr);
  }
}

json Nest(const Tensor& t, int64_t& next, const std::vector<int64_t>& shape, size_t dim) {
  if (dim == shape.size()) return Element(t, next++);
  json a = json::array();
  for (int64_t i = 0; i < shape[dim]; ++i) a.push_back(Nest(t, next, shape, dim + 1));
  return a;
}

}  // namespace

Status AppendJsonData(const json& data, Tensor& t) {
  if (!data.is_array()) return AppendOne(data, t);
  for (const auto& v : data) {
    Status s = v.is_array() ? AppendJsonData(v, t) : AppendOne(v, t);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

json JsonRow(const Tensor& t, int64_t row, const std::vector<int64_t>& row_shape) {
  int64_t per_row = 1;
  for (int64_t d : row_shape) per_row *= d;
  int64_t next = row * per_row;
  return Nest(t, next, row_shape, 0);
}

}  // namespace modelgate
