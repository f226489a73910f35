// Checker: reads config JSON values and keeps the first error as
// "<file>: key '<path>': <reason>". Single-threaded, one per parse.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "modelgate/status.h"

namespace modelgate {

// A number as config messages and the README write it: integral values in
// full ("1000000000"), others in shortest form ("0.001").
std::string FormatConfigNumber(double v);

class Checker {
 public:
  explicit Checker(std::string file) : file_(std::move(file)) {}

  // Records `reason` for `path` unless an error is already recorded; false.
  bool Fail(const std::string& path, const std::string& reason);
  bool ok() const { return error_.ok(); }
  const Status& error() const { return error_; }

  // Each reads one JSON value of its type within [lo, hi] into *out, or
  // fails naming `path`; *out is untouched on failure.
  bool Int(const nlohmann::json& j, const std::string& path, int64_t lo, int64_t hi, int64_t* out);
  bool Number(const nlohmann::json& j, const std::string& path, double lo, double hi, double* out);
  bool Bool(const nlohmann::json& j, const std::string& path, bool* out);
  bool String(const nlohmann::json& j, const std::string& path, std::string* out);

 private:
  std::string file_;
  Status error_;
};

// "<parent>.<key>", or "<key>" at the top level.
inline std::string KeyPath(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

}  // namespace modelgate
