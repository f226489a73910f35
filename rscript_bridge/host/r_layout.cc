#include "r_layout.h"

#include <cstdio>

namespace modelgate::worker_host {

// A whole number as R's as.character() prints a double: scientific when
// that is shorter ("1e+05"), so messages read as the script runtime's.
std::string FormatNumber(int64_t v) {
  const std::string digits = std::to_string(v < 0 ? -static_cast<uint64_t>(v) : v);
  const std::string sign = v < 0 ? "-" : "";
  size_t significant = digits.size();
  while (significant > 1 && digits[significant - 1] == '0') --significant;
  const size_t exponent = digits.size() - 1;
  const size_t sci_width = significant + (significant > 1 ? 1 : 0) + (exponent >= 100 ? 5 : 4);
  if (digits.size() <= sci_width) return sign + digits;
  std::string out = sign + digits.substr(0, 1);
  if (significant > 1) out += "." + digits.substr(1, significant - 1);
  out += exponent < 10 ? "e+0" : "e+";
  return out + std::to_string(exponent);
}

std::string FormatCount(double n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f", n);
  return buf;
}

std::string JoinShape(const std::vector<int64_t>& dims) {
  std::string out;
  for (const int64_t d : dims) {
    if (!out.empty()) out += ",";
    out += FormatNumber(d);
  }
  return out;
}

ColumnMajorWalk::ColumnMajorWalk(const std::vector<int64_t>& dims)
    : dims_(dims), stride_(dims.size(), 1), at_(dims.size(), 0) {
  for (size_t k = 1; k < dims_.size(); ++k) stride_[k] = stride_[k - 1] * dims_[k - 1];
}

R_xlen_t ColumnMajorWalk::Next() {
  const R_xlen_t here = col_;
  for (size_t k = dims_.size(); k-- > 0;) {  // the last dimension runs fastest
    if (++at_[k] < dims_[k]) {
      col_ += stride_[k];
      break;
    }
    col_ -= stride_[k] * (dims_[k] - 1);
    at_[k] = 0;
  }
  return here;
}

}  // namespace modelgate::worker_host
