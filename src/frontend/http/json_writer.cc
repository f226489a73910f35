#include "frontend/http/json_writer.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "common/half_float.h"
#include "common/missing_value.h"
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
      // The missing-value rule (missing_value.h): NA is null, and NaN and
      // the infinities, which JSON has no number for, are strings.
      if (!std::isfinite(v)) {
        if (IsNa(v)) {
          out += "null";
        } else if (std::isnan(v)) {
          out += "\"NaN\"";
        } else {
          out += v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
        }
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
  const bool ok = VisitDataType(t.datatype, [&]<class T>(std::type_identity<T>) {
    if constexpr (std::is_same_v<T, std::string>) {
      out_.push_back('"');
      if (!AppendEscaped(out_, t.strings[i], /*replace=*/false)) return false;
      out_.push_back('"');
    } else if constexpr (std::is_same_v<T, bool>) {
      AppendNumber(out_, t.raw[i] != 0);
    } else if constexpr (kIsHalfFloat<T>) {
      AppendNumber(out_, ToFloat(Load<T>(t, i)));  // exact
    } else {
      AppendNumber(out_, Load<T>(t, i));
    }
    return true;
  });
  if (!ok) {
    return Internal("model '" + std::string(model_) + "' output '" + t.name + "' element " +
                    std::to_string(i) +
                    " is not valid UTF-8, which a JSON response cannot carry; request "
                    "this output over gRPC");
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
