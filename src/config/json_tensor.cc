#include "config/json_tensor.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "common/missing_value.h"

namespace modelgate {

using nlohmann::json;

namespace {

std::string Where(const Tensor& t) { return "input '" + t.name + "': "; }

Status OutOfRange(const json& v, const Tensor& t) {
  return InvalidArgument(Where(t) + DescribeJson(v) + " is out of range for " +
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
                             " data must be integers, got " + DescribeJson(v));
    }
    if (d < static_cast<double>(Limits::lowest()) || d > static_cast<double>(Limits::max())) {
      return OutOfRange(v, t);
    }
    *out = static_cast<T>(d);
    return Status::Ok();
  }
  return InvalidArgument(Where(t) + std::string(DataTypeName(t.datatype)) +
                         " data must be integers, got " + DescribeJson(v));
}

template <typename T>
Status AppendNumber(const json& v, Tensor& t) {
  T out{};
  if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_boolean()) {
      return InvalidArgument(Where(t) + "BOOL data must be true or false, got " + DescribeJson(v));
    }
    out = v.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    if (Status s = IntegerOf(v, t, &out); !s.ok()) return s;
  } else {
    // The missing-value rule (missing_value.h), as json_writer writes it.
    if (v.is_null()) {
      if constexpr (std::is_same_v<T, double>) {
        out = NaFp64();
      } else {
        out = NaFp32();
      }
    } else if (v.is_string()) {
      const auto& text = v.get_ref<const std::string&>();
      if (text == "NaN") {
        out = std::numeric_limits<T>::quiet_NaN();
      } else if (text == "Infinity" || text == "-Infinity") {
        out = text[0] == '-' ? -std::numeric_limits<T>::infinity()
                             : std::numeric_limits<T>::infinity();
      } else {
        return InvalidArgument(Where(t) + std::string(DataTypeName(t.datatype)) +
                               " data must be numbers, null (NA), \"NaN\", \"Infinity\" or "
                               "\"-Infinity\", got " +
                               DescribeJson(v));
      }
    } else if (v.is_number()) {
      out = static_cast<T>(v.get<double>());
    } else {
      return InvalidArgument(Where(t) + std::string(DataTypeName(t.datatype)) +
                             " data must be numbers, null (NA), \"NaN\", \"Infinity\" or "
                             "\"-Infinity\", got " +
                             DescribeJson(v));
    }
  }
  t.raw.append(reinterpret_cast<const char*>(&out), sizeof out);
  return Status::Ok();
}

Status AppendOne(const json& v, Tensor& t) {
  return VisitDataType(t.datatype, [&]<class T>(std::type_identity<T>) {
    if constexpr (std::is_same_v<T, std::string>) {
      if (!v.is_string()) {
        return InvalidArgument(Where(t) + "BYTES data must be strings, got " + DescribeJson(v));
      }
      t.strings.push_back(v.get<std::string>());
      return Status::Ok();
    } else if constexpr (kIsHalfFloat<T>) {
      return InvalidArgument(Where(t) + "datatype " + std::string(DataTypeName(t.datatype)) +
                             " is not supported in JSON; send it over gRPC as raw bytes");
    } else {
      return AppendNumber<T>(v, t);
    }
  });
}

Status AppendData(const json& data, Tensor& t, size_t depth) {
  if (!data.is_array()) return AppendOne(data, t);
  if (depth >= kMaxJsonDepth) {
    return InvalidArgument(Where(t) + "data is nested deeper than " +
                           std::to_string(kMaxJsonDepth) + " levels");
  }
  for (const auto& v : data) {
    Status s = AppendData(v, t, depth + 1);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

std::optional<std::vector<int64_t>> ShapeOf(const json& v, size_t depth) {
  if (v.is_object() || depth > kMaxJsonDepth) return std::nullopt;
  if (!v.is_array()) return std::vector<int64_t>{};
  std::optional<std::vector<int64_t>> inner;
  for (const auto& item : v) {
    auto s = ShapeOf(item, depth + 1);
    if (!s || (inner && *s != *inner)) return std::nullopt;
    if (!inner) inner = std::move(s);
  }
  std::vector<int64_t> shape{static_cast<int64_t>(v.size())};
  // An empty array has no known inner shape: [0].
  if (inner) shape.insert(shape.end(), inner->begin(), inner->end());
  return shape;
}

}  // namespace

Status AppendJsonData(const json& data, Tensor& t) { return AppendData(data, t, 0); }

std::optional<std::vector<int64_t>> JsonShape(const json& v) { return ShapeOf(v, 0); }

std::string DescribeJson(const json& v) {
  static constexpr size_t kMaxChars = 40;
  if (v.is_array()) return "an array";
  if (v.is_object()) return "an object";
  if (v.is_string() && v.get_ref<const std::string&>().size() > kMaxChars) {
    return json(v.get_ref<const std::string&>().substr(0, kMaxChars) + "…")
        .dump(-1, ' ', false, json::error_handler_t::replace);
  }
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

// One linear pass before the DOM parse: nesting depth counted outside
// strings, and no NUL byte anywhere (nlohmann's lexer takes NUL for the end
// of input, which would let "{...}\0garbage" through; a raw NUL is never
// valid JSON). Trailing text other than whitespace is left to the strict
// parser.
Status CheckJsonText(std::string_view body) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (c == '\0') {
      return InvalidArgument("malformed JSON: NUL byte at offset " + std::to_string(i));
    }
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character; an escaped NUL is rejected by the parser
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > kMaxJsonDepth) {
          return InvalidArgument("malformed JSON: nested deeper than " +
                                 std::to_string(kMaxJsonDepth) + " levels at offset " +
                                 std::to_string(i));
        }
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return Status::Ok();
}

}  // namespace modelgate
