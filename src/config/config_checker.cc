#include "config/config_checker.h"

#include <charconv>
#include <cmath>

namespace modelgate {

using nlohmann::json;

std::string FormatConfigNumber(double v) {
  // Integers up to 2^53 are exact in a double: write them without exponent.
  static constexpr double kExactIntegerLimit = 9007199254740992.0;
  if (std::trunc(v) == v && std::fabs(v) < kExactIntegerLimit) {
    return std::to_string(static_cast<int64_t>(v));
  }
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

bool Checker::Fail(const std::string& path, const std::string& reason) {
  if (error_.ok()) error_ = InvalidArgument(file_ + ": key '" + path + "': " + reason);
  return false;
}

bool Checker::Int(const json& j, const std::string& path, int64_t lo, int64_t hi, int64_t* out) {
  // An integer beyond int64 arrives as unsigned: out of range, not a non-integer.
  if (j.is_number_unsigned() && j.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    return Fail(path, "must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
                          ", got " + std::to_string(j.get<uint64_t>()));
  }
  if (!j.is_number_integer()) return Fail(path, "must be an integer");
  const int64_t v = j.get<int64_t>();
  if (v < lo || v > hi) {
    return Fail(path, "must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
                          ", got " + std::to_string(v));
  }
  *out = v;
  return true;
}

bool Checker::Number(const json& j, const std::string& path, double lo, double hi, double* out) {
  if (!j.is_number()) return Fail(path, "must be a number");
  const double v = j.get<double>();
  if (!(v >= lo && v <= hi)) {
    return Fail(path, "must be between " + FormatConfigNumber(lo) + " and " +
                          FormatConfigNumber(hi) + ", got " + FormatConfigNumber(v));
  }
  *out = v;
  return true;
}

bool Checker::Bool(const json& j, const std::string& path, bool* out) {
  if (!j.is_boolean()) return Fail(path, "must be true or false");
  *out = j.get<bool>();
  return true;
}

bool Checker::String(const json& j, const std::string& path, std::string* out) {
  if (!j.is_string()) return Fail(path, "must be a string");
  *out = j.get<std::string>();
  return true;
}

}  // namespace modelgate
