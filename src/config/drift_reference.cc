#include "modelgate/drift_reference.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/utf8.h"
#include "config/config_checker.h"
#include "config/config_keys.h"

namespace modelgate {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::string_view kTopKeys[] = {"format", "rows", "inputs"};
constexpr std::string_view kEntryKeys[] = {"input",       "column",     "edges",
                                           "proportions", "categories", "other"};

// A label value: not empty, bounded, valid UTF-8 without control characters.
bool CheckLabel(Checker& c, const std::string& path, const std::string& s, const char* what) {
  if (s.empty()) return c.Fail(path, std::string(what) + " must not be empty");
  if (s.size() > kMaxDriftCategoryBytes) {
    return c.Fail(path, std::string(what) + " longer than " +
                            std::to_string(kMaxDriftCategoryBytes) + " bytes");
  }
  const bool control =
      std::any_of(s.begin(), s.end(), [](unsigned char ch) { return ch < 0x20 || ch == 0x7f; });
  if (control || !IsValidUtf8(s)) {
    return c.Fail(path, std::string(what) + " must be UTF-8 text without control characters");
  }
  return true;
}

bool CheckKeys(Checker& c, const json& j, const std::string& path,
               std::span<const std::string_view> keys) {
  for (const auto& [k, v] : j.items()) {
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) {
      return c.Fail(KeyPath(path, k), "unknown key (expected " + ExpectedKeys(keys) + ")");
    }
  }
  return true;
}

bool Proportion(Checker& c, const json& j, const std::string& path, double* out) {
  return c.Number(j, path, 0, 1, out);
}

bool CheckSum(Checker& c, const std::string& path, const std::vector<double>& p) {
  double sum = 0;
  for (double v : p) sum += v;
  if (std::fabs(sum - 1) > kDriftProportionTolerance) {
    return c.Fail(path, "proportions must sum to 1, got " + FormatConfigNumber(sum));
  }
  return true;
}

bool ParseNumeric(Checker& c, const json& j, const std::string& path, DriftEntry& e) {
  const json& edges = j["edges"];
  const std::string epath = KeyPath(path, "edges");
  if (!edges.is_array() || edges.empty() || edges.size() >= kMaxDriftBuckets) {
    return c.Fail(epath, "must be an array of 1 to " + std::to_string(kMaxDriftBuckets - 1) +
                             " increasing numbers");
  }
  for (size_t i = 0; i < edges.size(); ++i) {
    const std::string ipath = epath + "[" + std::to_string(i) + "]";
    double v = 0;
    if (!c.Number(edges[i], ipath, -HUGE_VAL, HUGE_VAL, &v)) return false;
    if (!std::isfinite(v)) return c.Fail(ipath, "must be a finite number");
    if (!e.edges.empty() && !(v > e.edges.back())) {
      return c.Fail(ipath, "must be greater than the edge before it (" +
                               FormatConfigNumber(e.edges.back()) + ")");
    }
    e.edges.push_back(v);
  }
  const std::string ppath = KeyPath(path, "proportions");
  if (!j.contains("proportions")) return c.Fail(ppath, "is required beside \"edges\"");
  const json& props = j["proportions"];
  if (!props.is_array() || props.size() != e.edges.size() + 1) {
    return c.Fail(ppath, "must be an array of " + std::to_string(e.edges.size() + 1) +
                             " numbers (one more than the edges)");
  }
  for (size_t i = 0; i < props.size(); ++i) {
    double v = 0;
    if (!Proportion(c, props[i], ppath + "[" + std::to_string(i) + "]", &v)) return false;
    e.proportions.push_back(v);
  }
  return CheckSum(c, ppath, e.proportions);
}

bool ParseCategorical(Checker& c, const json& j, const std::string& path, DriftEntry& e) {
  const json& cats = j["categories"];
  const std::string cpath = KeyPath(path, "categories");
  if (!cats.is_object() || cats.empty() || cats.size() > kMaxDriftCategories) {
    return c.Fail(cpath, "must be an object of 1 to " + std::to_string(kMaxDriftCategories) +
                             " category: proportion pairs");
  }
  // nlohmann's object is a std::map: categories arrive sorted and unique.
  for (const auto& [name, v] : cats.items()) {
    const std::string kpath = KeyPath(cpath, name);
    if (!CheckLabel(c, kpath, name, "a category")) return false;
    if (name == "_other") {
      return c.Fail(kpath,
                    "is reserved for the live values outside the categories (give "
                    "their reference share as \"other\")");
    }
    double p = 0;
    if (!Proportion(c, v, kpath, &p)) return false;
    e.categories.push_back(name);
    e.proportions.push_back(p);
  }
  double other = 0;
  if (j.contains("other") && !Proportion(c, j["other"], KeyPath(path, "other"), &other)) {
    return false;
  }
  e.proportions.push_back(other);
  return CheckSum(c, cpath, e.proportions);
}

// Checks `e` against the model's declared input it reads.
bool CheckInput(Checker& c, const std::string& path, const DriftEntry& e,
                const std::vector<TensorSpec>& inputs) {
  auto it = std::find_if(inputs.begin(), inputs.end(),
                         [&](const TensorSpec& s) { return s.name == e.input; });
  const std::string ipath = KeyPath(path, "input");
  if (it == inputs.end()) {
    std::vector<std::string_view> names;
    for (const auto& s : inputs) names.push_back(s.name);
    return c.Fail(ipath,
                  "the model has no input '" + e.input + "' (inputs: " + ExpectedKeys(names) + ")");
  }
  const bool bytes = it->datatype == DataType::kBytes;
  if (e.categorical && !bytes) {
    return c.Fail(KeyPath(path, "categories"), "are for BYTES inputs; input '" + e.input + "' is " +
                                                   std::string(DataTypeName(it->datatype)) +
                                                   " (give \"edges\")");
  }
  if (!e.categorical && bytes) {
    return c.Fail(KeyPath(path, "edges"),
                  "are for numeric inputs; input '" + e.input + "' is BYTES (give \"categories\")");
  }
  if (e.column) {
    if (it->shape.size() != 2) {
      return c.Fail(KeyPath(path, "column"), "needs a 2-D input; input '" + e.input +
                                                 "' has shape " + ShapeString(it->shape));
    }
    if (it->shape[1] >= 0 && *e.column >= it->shape[1]) {
      return c.Fail(KeyPath(path, "column"), "must be below the input's width " +
                                                 std::to_string(it->shape[1]) + ", got " +
                                                 std::to_string(*e.column));
    }
  }
  return true;
}

bool ParseEntry(Checker& c, const std::string& name, const json& j, const std::string& path,
                const std::vector<TensorSpec>& inputs, DriftEntry& e) {
  if (!CheckLabel(c, path, name, "an input name")) return false;
  if (!j.is_object()) return c.Fail(path, "must be an object");
  if (!CheckKeys(c, j, path, kEntryKeys)) return false;
  e.name = name;
  e.input = name;
  if (j.contains("input") && !c.String(j["input"], KeyPath(path, "input"), &e.input)) return false;
  if (j.contains("column")) {
    int64_t col = 0;
    if (!c.Int(j["column"], KeyPath(path, "column"), 0, INT32_MAX, &col)) return false;
    e.column = col;
  }
  const bool numeric = j.contains("edges");
  e.categorical = j.contains("categories");
  if (numeric == e.categorical) {
    return c.Fail(path, "needs exactly one of \"edges\" (numeric) or \"categories\" (BYTES)");
  }
  if (numeric && j.contains("other")) {
    return c.Fail(KeyPath(path, "other"), "is for categorical entries only");
  }
  if (e.categorical && j.contains("proportions")) {
    return c.Fail(KeyPath(path, "proportions"),
                  "is for numeric entries only (categories carry their own)");
  }
  if (!(numeric ? ParseNumeric(c, j, path, e) : ParseCategorical(c, j, path, e))) return false;
  return inputs.empty() || CheckInput(c, path, e, inputs);
}

}  // namespace

StatusOr<DriftReference> ParseDriftReference(const json& root, const std::string& file,
                                             const std::vector<TensorSpec>& inputs) {
  Checker c(file);
  if (!root.is_object()) return InvalidArgument(file + ": must be a JSON object");
  if (!CheckKeys(c, root, "", kTopKeys)) return c.error();
  int64_t format = 0;
  if (!root.contains("format")) {
    c.Fail("format", "is required (" + std::to_string(kDriftReferenceFormat) + ")");
    return c.error();
  }
  if (!c.Int(root["format"], "format", kDriftReferenceFormat, kDriftReferenceFormat, &format)) {
    return c.error();
  }
  int64_t rows = 0;
  if (root.contains("rows") && !c.Int(root["rows"], "rows", 0, INT64_MAX, &rows)) {
    return c.error();
  }
  const json* entries = root.contains("inputs") ? &root["inputs"] : nullptr;
  if (!entries || !entries->is_object() || entries->empty() || entries->size() > kMaxDriftEntries) {
    c.Fail("inputs",
           "must be an object of 1 to " + std::to_string(kMaxDriftEntries) + " monitored inputs");
    return c.error();
  }
  DriftReference ref;
  for (const auto& [name, j] : entries->items()) {
    DriftEntry e;
    if (!ParseEntry(c, name, j, KeyPath("inputs", name), inputs, e)) return c.error();
    ref.entries.push_back(std::move(e));
  }
  return ref;
}

StatusOr<DriftReference> LoadDriftReference(const std::string& version_dir,
                                            const ModelConfig& config) {
  const std::string key_source = config.source_file + ": key 'drift.reference'";
  std::error_code ec;
  const fs::path dir = fs::canonical(version_dir, ec);
  if (ec) return InvalidArgument(version_dir + ": cannot resolve: " + ec.message());
  const fs::path file = fs::path(version_dir) / config.drift.reference;
  const fs::path real = fs::canonical(file, ec);
  if (ec) return InvalidArgument(key_source + ": " + file.string() + ": " + ec.message());
  // Inside the version directory, symlinks resolved: the snapshot copies it.
  const auto rel = real.lexically_relative(dir);
  if (rel.empty() || *rel.begin() == "..") {
    return InvalidArgument(key_source + ": " + file.string() +
                           " resolves outside the version directory");
  }
  if (!fs::is_regular_file(real, ec)) {
    return InvalidArgument(key_source + ": " + file.string() + " is not a regular file");
  }
  const uintmax_t size = fs::file_size(real, ec);
  if (ec) return InvalidArgument(file.string() + ": cannot read: " + ec.message());
  if (size > kMaxDriftReferenceBytes) {
    return InvalidArgument(file.string() + ": " + std::to_string(size) + " bytes; at most " +
                           std::to_string(kMaxDriftReferenceBytes) + " are read");
  }
  std::ifstream in(real);
  if (!in.is_open()) return InvalidArgument(file.string() + ": cannot open");
  std::stringstream text;
  text << in.rdbuf();
  json root;
  try {
    root = json::parse(text.str());
  } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e400
    return InvalidArgument(file.string() + ": not valid JSON: " + e.what());
  }
  return ParseDriftReference(root, file.string(), config.inputs);
}

}  // namespace modelgate
