#include "frontend/http/json_writer.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "common/tensor_validation.h"
#include "common/utf8.h"

namespace modelgate {

namespace {

constexpr char kHex[] = "0123456789abcdef";

// Appends `s` escaped, without quotes; false at the first byte that is not
// well-formed UTF-8 when `replace` is off (else U+FFFD takes its place).
bool AppendEscaped(std::string& out, std::string_view s, bool replace) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const size_t n = Utf8SequenceLength(s.substr(i));
      if (n == 0) {
        if (!replace) return false;
        out += "\\ufffd";
        ++i;
      } else {
        out.append(s.data() + i, n);
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  return true;
}

// IEEE half precision to float; exact (every half is a float).
float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000 | (mant << 13);  // inf, NaN
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);  // rebias 15 -> 127
  } else if (mant == 0) {
    bits = sign;  // +-0
  } else {
    int e = 113;  // subnormal: normalise the mantissa
    while (!(mant & 0x400)) {
      mant <<= 1;
      --e;
    }
    bits = sign | (static_cast<uint32_t>(e) << 23) | ((mant & 0x3ff) << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// bfloat16 is the top half of a float.
float Bf16ToFloat(uint16_t h) {
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

template <typename T>
T Load(const Tensor& t, int64_t i) {
  T v;
  std::memcpy(&v, t.raw.data() + i * sizeof(T), sizeof(T));
  return v;
}

template <typename T>
void AppendNumber(std::string& out, T v) {
  if constexpr (std::is_same_v<T, bool>) {
    out += v ? "true" : "false";
  } else {
    if constexpr (std::is_floating_point_v<T>) {
      if (!std::isfinite(v)) {
        out += "null";
        return;
      }
    }
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
  }
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  AppendEscaped(out, s, /*replace=*/true);
  out.push_back('"');
}

Status JsonTensorWriter::TooLarge(const Tensor& t) const {
  return Internal("model '" + std::string(model_) + "' output '" + t.name + "' makes the JSON " +
                  "response larger than " + std::to_string(max_bytes_ >> 20) +
                  " MiB; request it over gRPC");
}

Status JsonTensorWriter::Element(const Tensor& t, int64_t i) {
  switch (t.datatype) {
    case DataType::kBool:
      AppendNumber(out_, t.raw[i] != 0);
      break;
    case DataType::kUint8:
      AppendNumber(out_, Load<uint8_t>(t, i));
      break;
    case DataType::kUint16:
      AppendNumber(out_, Load<uint16_t>(t, i));
      break;
    case DataType::kUint32:
      AppendNumber(out_, Load<uint32_t>(t, i));
      break;
    case DataType::kUint64:
      AppendNumber(out_, Load<uint64_t>(t, i));
      break;
    case DataType::kInt8:
      AppendNumber(out_, Load<int8_t>(t, i));
      break;
    case DataType::kInt16:
      AppendNumber(out_, Load<int16_t>(t, i));
      break;
    case DataType::kInt32:
      AppendNumber(out_, Load<int32_t>(t, i));
      break;
    case DataType::kInt64:
      AppendNumber(out_, Load<int64_t>(t, i));
      break;
    case DataType::kFp16:
      AppendNumber(out_, HalfToFloat(Load<uint16_t>(t, i)));
      break;
    case DataType::kBf16:
      AppendNumber(out_, Bf16ToFloat(Load<uint16_t>(t, i)));
      break;
    case DataType::kFp32:
      AppendNumber(out_, Load<float>(t, i));
      break;
    case DataType::kFp64:
      AppendNumber(out_, Load<double>(t, i));
      break;
    case DataType::kBytes:
      out_.push_back('"');
      if (!AppendEscaped(out_, t.strings[i], /*replace=*/false)) {
        return Internal("model '" + std::string(model_) + "' output '" + t.name + "' element " +
                        std::to_string(i) +
                        " is not valid UTF-8, which a JSON response cannot carry; request "
                        "this output over gRPC");
      }
      out_.push_back('"');
      break;
  }
  return out_.size() > max_bytes_ ? TooLarge(t) : Status::Ok();
}

Status JsonTensorWriter::Flat(const Tensor& t) {
  out_.push_back('[');
  const int64_t n = t.HeldElements();
  for (int64_t i = 0; i < n; ++i) {
    if (i) out_.push_back(',');
    if (Status s = Element(t, i); !s.ok()) return s;
  }
  out_.push_back(']');
  return Status::Ok();
}

Status JsonTensorWriter::Nested(const Tensor& t, int64_t first, const std::vector<int64_t>& dims) {
  const auto count = CheckedElementCount(dims);
  int64_t end = 0;
  if (dims.size() > kMaxTensorRank || !count || first < 0 ||
      __builtin_add_overflow(first, *count, &end) || end > t.HeldElements()) {
    return Internal("model '" + std::string(model_) + "' output '" + t.name + "' of shape " +
                    ShapeString(t.shape) + " does not hold the elements its shape declares");
  }
  int64_t next = first;
  return Nest(t, next, dims, 0);
}

// Recursion depth is dims.size() <= kMaxTensorRank (checked by Nested).
Status JsonTensorWriter::Nest(const Tensor& t, int64_t& next, const std::vector<int64_t>& dims,
                              size_t level) {
  if (level == dims.size()) return Element(t, next++);
  out_.push_back('[');
  for (int64_t i = 0; i < dims[level]; ++i) {
    if (i) out_.push_back(',');
    if (Status s = Nest(t, next, dims, level + 1); !s.ok()) return s;
    if (out_.size() > max_bytes_) return TooLarge(t);
  }
  out_.push_back(']');
  return Status::Ok();
}

}  // namespace modelgate
