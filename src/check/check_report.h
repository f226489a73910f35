// The result of `modelgate check` for one model version (a model whose
// config does not load has one row without version) and its table.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace modelgate {

struct CheckRow {
  std::string model;
  std::string version = "-";       // "-": the model's config did not load
  std::optional<int64_t> load_ms;  // Hello and warm-up of its worker; unset: no load
  size_t examples_passed = 0;
  size_t examples_total = 0;
  std::optional<double> rss_mib;  // the worker's resident memory after the examples
  std::string error;              // empty: loaded and every example passed

  bool ok() const { return error.empty() && examples_passed == examples_total; }
};

// Longest error a row shows (one line; the rest is cut).
inline constexpr size_t kMaxRowErrorBytes = 2000;

// An aligned text table, one row per CheckRow, columns MODEL VERSION STATUS
// LOAD_MS EXAMPLES RSS_MIB ERROR; "-" for what is unknown. An error's line
// breaks become " | " so each row stays one line.
std::string FormatCheckTable(const std::vector<CheckRow>& rows);

// The rows as one JSON array (`--format json`, for CI tools), each
// {"model", "version", "ok", "load_ms", "examples_passed", "examples_total",
// "rss_mib", "error"}; null for what is unknown ("version" of a model whose
// config did not load, "error" of a row that passed). The error is whole.
std::string FormatCheckJson(const std::vector<CheckRow>& rows);

}  // namespace modelgate
