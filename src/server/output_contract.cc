#include "server/output_contract.h"

#include <algorithm>
#include <set>
#include <string_view>

#include "common/tensor_validation.h"
#include "modelgate/log_event.h"
#include "server/request_validation.h"

namespace modelgate {

namespace {

std::string NamesOf(const std::vector<Tensor>& outputs) {
  std::string s;
  for (const Tensor& t : outputs) s += (s.empty() ? "" : ", ") + t.name;
  return s.empty() ? "no outputs" : s;
}

}  // namespace

Status OutputContract::Apply(const ModelConfig& config, int64_t version,
                             const std::vector<std::string>& requested,
                             std::optional<int64_t> batch_rows, std::vector<Tensor>& outputs) {
  const std::string model = "model '" + config.name + "' version " + std::to_string(version);
  // Workers' outputs are checked as they arrive (tensor_proto.h); checked
  // again here, O(rank) each, since encoders index data by these shapes.
  std::set<std::string_view> names;
  for (const Tensor& t : outputs) {
    if (Status s = ValidateTensor(t, TensorSource::kWorker, config.name); !s.ok()) return s;
    // Two outputs of one name would reach the client as an ambiguous answer.
    if (!names.insert(t.name).second) {
      return Internal("model '" + config.name + "' returned output '" + t.name + "' twice");
    }
  }
  auto wanted = [&](const std::string& n) {
    return requested.empty() || std::find(requested.begin(), requested.end(), n) != requested.end();
  };
  if (config.outputs.empty()) {
    // Undeclared outputs are known only now: a requested name the model did
    // not return is the client's mistake, never a silently empty answer.
    for (const auto& n : requested) {
      if (!names.contains(n)) {
        return InvalidArgument("unknown output '" + n + "': model '" + config.name + "' returned " +
                               NamesOf(outputs));
      }
    }
    std::erase_if(outputs, [&](const Tensor& t) { return !wanted(t.name); });
    return Status::Ok();
  }
  for (const auto& spec : config.outputs) {
    if (wanted(spec.name) && !names.contains(spec.name)) {
      return Internal(model + " returned no output '" + spec.name + "'; it returned " +
                      NamesOf(outputs));
    }
  }
  std::vector<Tensor> shaped;
  for (const auto& spec : config.outputs) {
    if (!wanted(spec.name)) continue;
    auto it = std::find_if(outputs.begin(), outputs.end(),
                           [&](const Tensor& t) { return t.name == spec.name; });
    const std::string where = model + " output '" + spec.name + "': ";
    if (it->datatype != spec.datatype) {
      if (it->datatype == DataType::kBytes || spec.datatype == DataType::kBytes) {
        return Internal(where + "datatype " + std::string(DataTypeName(it->datatype)) +
                        " does not match the declared " + std::string(DataTypeName(spec.datatype)));
      }
      if (Status s = CastTensor(*it, spec.datatype); !s.ok()) {
        return Internal(model + " " + s.message() + " (returned " +
                        std::string(DataTypeName(it->datatype)) + ", declared " +
                        std::string(DataTypeName(spec.datatype)) + ")");
      }
    }
    if (!ShapeMatches(spec.shape, it->shape)) {
      return Internal(where + "shape " + ShapeString(it->shape) + " does not match the declared " +
                      ShapeString(spec.shape));
    }
    if (config.max_batch_size > 0 && batch_rows &&
        (it->shape.empty() || it->shape.front() != *batch_rows)) {
      return Internal(where + "shape " + ShapeString(it->shape) + " does not have the request's " +
                      std::to_string(*batch_rows) +
                      " rows as dim 0 (dynamic batching: "
                      "outputs have the batch as dim 0)");
    }
    shaped.push_back(std::move(*it));
    it->name.clear();  // taken; what is left named below is undeclared
  }
  std::string undeclared;
  for (const Tensor& t : outputs) {
    if (t.name.empty()) continue;
    const bool declared = std::any_of(config.outputs.begin(), config.outputs.end(),
                                      [&](const TensorSpec& s) { return s.name == t.name; });
    if (!declared) undeclared += (undeclared.empty() ? "" : ", ") + t.name;
  }
  if (!undeclared.empty() && !undeclared_logged_.exchange(true)) {
    LogWarn("model returned undeclared outputs; dropped (logged once per model version)",
            {{"model", config.name}, {"version", version}, {"outputs", undeclared}});
  }
  outputs = std::move(shaped);
  return Status::Ok();
}

}  // namespace modelgate
