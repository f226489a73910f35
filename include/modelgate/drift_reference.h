// DriftReference: what a model's training data looked like, per monitored
// input, read from the version directory's reference file (config key
// "drift.reference"; format in the README, "Input drift"). The daemon
// compares live inputs against it (observability/drift_monitor.h).
//
// A numeric entry holds interior bucket edges e[0] < ... < e[k-2] and the
// expected proportion of each of the k buckets: bucket 0 is x < e[0],
// bucket i is e[i-1] <= x < e[i], bucket k-1 is x >= e[k-2]. A categorical
// entry (BYTES inputs) holds category -> proportion, plus the proportion of
// everything else ("other", 0 unless the writer lumped rare categories).
// Immutable once parsed; shared read-only between threads.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "modelgate/model_config.h"
#include "modelgate/status.h"

namespace modelgate {

// Named limits: they bound the daemon's memory per monitored input and the
// label values a reference can create.
inline constexpr size_t kMaxDriftBuckets = 100;
inline constexpr size_t kMaxDriftCategories = 100;
inline constexpr size_t kMaxDriftCategoryBytes = 128;
inline constexpr size_t kMaxDriftEntries = 256;
inline constexpr size_t kMaxDriftReferenceBytes = size_t{4} << 20;
// How far the proportions of an entry may sum from 1.
inline constexpr double kDriftProportionTolerance = 1e-6;
// The format marker every reference file carries.
inline constexpr int64_t kDriftReferenceFormat = 1;

struct DriftEntry {
  std::string name;   // the metric's `input` label: the input, or the column's name
  std::string input;  // the model input it reads
  // The column of a 2-D input ([rows, cols]) this entry reads; unset: every
  // element of the input.
  std::optional<int64_t> column;
  bool categorical = false;
  std::vector<double> edges;  // numeric: k-1 interior edges, strictly increasing
  // Numeric: k proportions. Categorical: one per category, then "other" last.
  std::vector<double> proportions;
  std::vector<std::string> categories;  // categorical: sorted, unique
};

struct DriftReference {
  std::vector<DriftEntry> entries;  // sorted by name
};

// Parses reference JSON; `file` names the source in errors ("<file>: key
// '<path>': <reason>"). When `inputs` is not empty, every entry must read a
// declared input of a matching kind (numeric for edges, BYTES for
// categories; a column only of a 2-D input, within its fixed width).
StatusOr<DriftReference> ParseDriftReference(const nlohmann::json& root, const std::string& file,
                                             const std::vector<TensorSpec>& inputs);

// Reads and parses `config.drift.reference` under the version directory
// `version_dir`: the path must be relative and stay inside it (symlinks
// resolved), the file at most kMaxDriftReferenceBytes.
StatusOr<DriftReference> LoadDriftReference(const std::string& version_dir,
                                            const ModelConfig& config);

}  // namespace modelgate
