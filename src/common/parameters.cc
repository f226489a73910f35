#include "modelgate/parameters.h"

#include <algorithm>
#include <array>

#include "common/utf8.h"

namespace modelgate {

namespace {

// Every key a front end interprets or that Triton/KServe reserve for the
// server. Sorted; keep it so (checked by IsDaemonParameter's test).
constexpr std::array<std::string_view, 10> kDaemonKeys = {
    "binary_data",      "binary_data_output",
    "binary_data_size", "headers",
    "priority",         "sequence_end",
    "sequence_id",      "sequence_start",
    "timeout",          "triton_enable_empty_final_response",
};

// A key for an error message: printable ASCII kept, everything else \xNN,
// cut to 64 bytes.
std::string Printable(std::string_view key) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : key.substr(0, 64)) {
    if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  if (key.size() > 64) out += "...";
  return out;
}

}  // namespace

bool IsDaemonParameter(std::string_view key) {
  return std::binary_search(kDaemonKeys.begin(), kDaemonKeys.end(), key);
}

Status CheckParameterKey(std::string_view key, size_t count) {
  if (count >= kMaxParameters) {
    return InvalidArgument("request parameters: more than " + std::to_string(kMaxParameters) +
                           " parameters (at '" + Printable(key) + "')");
  }
  if (key.empty()) return InvalidArgument("request parameters: a parameter name is empty");
  if (key.size() > kMaxParameterKeyBytes) {
    return InvalidArgument("request parameter '" + Printable(key) + "': the name has " +
                           std::to_string(key.size()) + " bytes; at most " +
                           std::to_string(kMaxParameterKeyBytes) + " are allowed");
  }
  if (!IsValidUtf8(key) || std::any_of(key.begin(), key.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
      })) {
    return InvalidArgument("request parameter '" + Printable(key) +
                           "': the name must be UTF-8 without control characters");
  }
  return Status::Ok();
}

Status CheckParameterString(std::string_view key, std::string_view value) {
  if (value.size() > kMaxParameterValueBytes) {
    return InvalidArgument("request parameter '" + Printable(key) + "': the value has " +
                           std::to_string(value.size()) + " bytes; at most " +
                           std::to_string(kMaxParameterValueBytes) + " are allowed");
  }
  // The worker protocol's strings are UTF-8 (its runtimes refuse others),
  // and an R string cannot hold NUL.
  if (!IsValidUtf8(value)) {
    return InvalidArgument("request parameter '" + Printable(key) +
                           "': a string value must be UTF-8");
  }
  if (value.find('\0') != std::string_view::npos) {
    return InvalidArgument("request parameter '" + Printable(key) +
                           "': a string value must not contain NUL");
  }
  return Status::Ok();
}

}  // namespace modelgate
