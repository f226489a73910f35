#include "check/check_report.h"

#include <algorithm>
#include <array>
#include <cstdio>

namespace modelgate {

namespace {

std::string OneLine(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size() && out.size() < kMaxRowErrorBytes; ++i) {
    const char c = s[i];
    if (c == '\n') {
      if (i + 1 < s.size()) out += " | ";
    } else if (c == '\r' || c == '\t') {
      out += ' ';
    } else {
      out += c;
    }
  }
  if (out.size() >= kMaxRowErrorBytes) out += "…";
  return out;
}

}  // namespace

std::string FormatCheckTable(const std::vector<CheckRow>& rows) {
  constexpr size_t kColumns = 7;
  using Line = std::array<std::string, kColumns>;
  std::vector<Line> lines{
      {"MODEL", "VERSION", "STATUS", "LOAD_MS", "EXAMPLES", "RSS_MIB", "ERROR"}};
  for (const CheckRow& r : rows) {
    char rss[32] = "-";
    if (r.rss_mib) std::snprintf(rss, sizeof rss, "%.1f", *r.rss_mib);
    lines.push_back({r.model, r.version, r.ok() ? "ok" : "FAIL",
                     r.load_ms ? std::to_string(*r.load_ms) : "-",
                     std::to_string(r.examples_passed) + "/" + std::to_string(r.examples_total),
                     rss, r.error.empty() ? "-" : OneLine(r.error)});
  }
  std::array<size_t, kColumns> width{};
  for (const Line& l : lines) {
    for (size_t c = 0; c + 1 < kColumns; ++c) width[c] = std::max(width[c], l[c].size());
  }
  std::string out;
  for (const Line& l : lines) {
    for (size_t c = 0; c + 1 < kColumns; ++c) {
      out += l[c] + std::string(width[c] - l[c].size() + 2, ' ');
    }
    out += l[kColumns - 1] + "\n";
  }
  return out;
}

}  // namespace modelgate
