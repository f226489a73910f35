#include "server/request_validation.h"

#include <algorithm>
#include <set>
#include <string_view>

#include "common/tensor_validation.h"
#include "common/utf8.h"

namespace modelgate {

namespace {

std::string Names(const std::vector<TensorSpec>& specs) {
  std::string s;
  for (const auto& t : specs) s += (s.empty() ? "" : ", ") + t.name;
  return s;
}

// How much of a client's value, and how many levels, an error shows.
constexpr size_t kQuotedValueBytes = 64;
constexpr size_t kShownLevels = 20;

// A BYTES input with declared levels (an R factor, a pandas category) takes
// only those values: any other is the client's error, answered before the
// request reaches a worker.
Status CheckLevels(const TensorSpec& spec, const Tensor& t) {
  if (spec.levels.empty() || t.datatype != DataType::kBytes) return Status::Ok();
  // Sorted once per request: n values against L levels cost n log L.
  std::vector<std::string_view> sorted(spec.levels.begin(), spec.levels.end());
  std::sort(sorted.begin(), sorted.end());
  for (const std::string& v : t.strings) {
    if (std::binary_search(sorted.begin(), sorted.end(), std::string_view(v))) continue;
    std::string shown;
    for (size_t i = 0; i < spec.levels.size() && i < kShownLevels; ++i) {
      shown += (i ? ", " : "") + PrintableCut(spec.levels[i], kQuotedValueBytes);
    }
    if (spec.levels.size() > kShownLevels) {
      shown += ", ... (" + std::to_string(spec.levels.size()) + " levels)";
    }
    return InvalidArgument("input '" + t.name + "': value '" + PrintableCut(v, kQuotedValueBytes) +
                           "' is not one of its levels: " + shown);
  }
  return Status::Ok();
}

}  // namespace

bool ShapeMatches(const std::vector<int64_t>& declared, const std::vector<int64_t>& got) {
  if (declared.size() != got.size()) return false;
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] < 0 || (declared[i] != -1 && declared[i] != got[i])) return false;
  }
  return true;
}

Status ValidateInputs(const ModelConfig& config, const std::vector<Tensor>& inputs) {
  const std::string model = "model '" + config.name + "'";
  std::set<std::string> seen;
  for (const Tensor& t : inputs) {
    if (!seen.insert(t.name).second) return InvalidArgument("input '" + t.name + "' given twice");
    auto spec = std::find_if(config.inputs.begin(), config.inputs.end(),
                             [&](const TensorSpec& s) { return s.name == t.name; });
    if (spec == config.inputs.end()) {
      return InvalidArgument("unknown input '" + t.name + "': " + model + " takes " +
                             Names(config.inputs));
    }
    if (spec->datatype != t.datatype) {
      return InvalidArgument("input '" + t.name + "': datatype " +
                             std::string(DataTypeName(t.datatype)) + " does not match the " +
                             std::string(DataTypeName(spec->datatype)) + " that " + model +
                             " declares");
    }
    if (!ShapeMatches(spec->shape, t.shape)) {
      return InvalidArgument("input '" + t.name + "': shape " + ShapeString(t.shape) +
                             " does not match " + ShapeString(spec->shape) + " that " + model +
                             " declares");
    }
    if (Status s = ValidateTensor(t, TensorSource::kClient); !s.ok()) return s;
    if (Status s = CheckLevels(*spec, t); !s.ok()) return s;
  }
  for (const auto& spec : config.inputs) {
    if (!spec.optional && !seen.count(spec.name)) {
      return InvalidArgument("missing input '" + spec.name + "': " + model + " takes " +
                             Names(config.inputs));
    }
  }
  if (config.dataframe && inputs.size() > 1) {
    for (const Tensor& t : inputs) {
      if (t.shape[0] != inputs[0].shape[0]) {
        return InvalidArgument("input '" + t.name + "' has " + std::to_string(t.shape[0]) +
                               " rows but '" + inputs[0].name + "' has " +
                               std::to_string(inputs[0].shape[0]) +
                               "; data-frame columns must have equal length");
      }
    }
  }
  return Status::Ok();
}

Status ValidateRequestedOutputs(const ModelConfig& config, const std::vector<std::string>& names) {
  if (config.outputs.empty()) return Status::Ok();
  for (const auto& n : names) {
    if (std::none_of(config.outputs.begin(), config.outputs.end(),
                     [&](const TensorSpec& s) { return s.name == n; })) {
      return InvalidArgument("unknown output '" + n + "': model '" + config.name + "' has " +
                             Names(config.outputs));
    }
  }
  return Status::Ok();
}

}  // namespace modelgate
