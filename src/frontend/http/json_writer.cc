#include "frontend/http/json_writer.h"

#include <charconv>
#include <cmath>
#include <cstring>

namespace modelgate {

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (unsigned char c : s) {
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
  }
  out.push_back('"');
}

namespace {

template <typename T>
void AppendElements(std::string& out, const Tensor& t) {
  const size_t n = t.raw.size() / sizeof(T);
  char buf[32];
  for (size_t i = 0; i < n; ++i) {
    if (i) out.push_back(',');
    T v;
    std::memcpy(&v, t.raw.data() + i * sizeof(T), sizeof(T));
    if constexpr (std::is_same_v<T, bool>) {
      out += v ? "true" : "false";
    } else {
      if constexpr (std::is_floating_point_v<T>) {
        if (!std::isfinite(v)) {
          out += "null";
          continue;
        }
      }
      const auto r = std::to_chars(buf, buf + sizeof buf, v);
      out.append(buf, r.ptr);
    }
  }
}

}  // namespace

void AppendJsonArray(std::string& out, const Tensor& t) {
  out.push_back('[');
  switch (t.datatype) {
    case DataType::kBool:
      AppendElements<bool>(out, t);
      break;
    case DataType::kUint8:
      AppendElements<uint8_t>(out, t);
      break;
    case DataType::kUint16:
      AppendElements<uint16_t>(out, t);
      break;
    case DataType::kUint32:
      AppendElements<uint32_t>(out, t);
      break;
    case DataType::kUint64:
      AppendElements<uint64_t>(out, t);
      break;
    case DataType::kInt8:
      AppendElements<int8_t>(out, t);
      break;
    case DataType::kInt16:
      AppendElements<int16_t>(out, t);
      break;
    case DataType::kInt32:
      AppendElements<int32_t>(out, t);
      break;
    case DataType::kInt64:
      AppendElements<int64_t>(out, t);
      break;
    case DataType::kFp32:
      AppendElements<float>(out, t);
      break;
    case DataType::kFp64:
      AppendElements<double>(out, t);
      break;
    case DataType::kBytes:
      for (size_t i = 0; i < t.strings.size(); ++i) {
        if (i) out.push_back(',');
        AppendJsonString(out, t.strings[i]);
      }
      break;
    default:
      break;  // FP16/BF16 outputs only travel raw (gRPC)
  }
  out.push_back(']');
}

}  // namespace modelgate
