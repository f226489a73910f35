#include "server/request_validation.h"

#include <algorithm>
#include <set>

#include "common/tensor_validation.h"

namespace modelgate {

namespace {

std::string Names(const std::vector<TensorSpec>& specs) {
  std::string s;
  for (const auto& t : specs) s += (s.empty() ? "" : ", ") + t.name;
  return s;
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
