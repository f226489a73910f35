#include "check/check_report.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>

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

std::string FormatCheckJson(const std::vector<CheckRow>& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const CheckRow& r : rows) {
    nlohmann::json row = {{"model", r.model},
                          {"version", nullptr},
                          {"ok", r.ok()},
                          {"load_ms", nullptr},
                          {"examples_passed", r.examples_passed},
                          {"examples_total", r.examples_total},
                          {"rss_mib", nullptr},
                          {"error", nullptr}};
    if (r.version != "-") row["version"] = r.version;
    if (r.load_ms) row["load_ms"] = *r.load_ms;
    if (r.rss_mib) row["rss_mib"] = *r.rss_mib;
    if (!r.error.empty()) row["error"] = r.error;
    out.push_back(std::move(row));
  }
  // Model output in an error may hold any bytes: replace what is not UTF-8.
  return out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace modelgate
