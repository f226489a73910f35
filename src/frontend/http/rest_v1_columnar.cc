#include "frontend/http/rest_v1_columnar.h"

#include <algorithm>
#include <set>
#include <string_view>

#include "common/tensor_validation.h"
#include "config/json_tensor.h"
#include "frontend/http/json_writer.h"
#include "frontend/http/rest_codec.h"

namespace modelgate {

using nlohmann::json;

namespace {

Status AppendInput(const json& value, const TensorSpec& spec, InferRequest& r) {
  const std::string at = "'inputs': input '" + spec.name + "'";
  auto shape = JsonShape(value);
  if (!shape) {
    return InvalidArgument(at +
                           " is ragged or holds an object; send a scalar or a "
                           "rectangular (nested) array");
  }
  if (shape->size() > kMaxTensorRank) {
    return InvalidArgument(at + " has " + std::to_string(shape->size()) + " dimensions; at most " +
                           std::to_string(kMaxTensorRank) + " are allowed");
  }
  Tensor t;
  t.name = spec.name;
  t.datatype = spec.datatype;
  t.shape = std::move(*shape);
  if (Status s = AppendJsonData(value, t); !s.ok()) {
    return Status(s.code(), "'inputs': " + s.message());
  }
  if (Status s = ValidateTensor(t, TensorSource::kClient); !s.ok()) return s;
  r.inputs.push_back(std::move(t));
  return Status::Ok();
}

}  // namespace

StatusOr<InferRequest> ParseV1ColumnarInputs(const json& inputs, const ModelConfig& config) {
  const auto& specs = config.inputs;
  InferRequest r;
  if (!inputs.is_object()) {
    if (specs.size() != 1) {
      return InvalidArgument("'inputs' must be an object keyed by input name: the model has " +
                             std::to_string(specs.size()) +
                             " inputs (a bare tensor is only for a model with one input)");
    }
    if (Status s = AppendInput(inputs, specs[0], r); !s.ok()) return s;
    return r;
  }
  for (const auto& item : inputs.items()) {
    const std::string& key = item.key();
    if (std::none_of(specs.begin(), specs.end(), [&](auto& s) { return s.name == key; })) {
      return InvalidArgument("'inputs': unknown input '" + key.substr(0, 64) + "'");
    }
  }
  for (const TensorSpec& spec : specs) {
    auto v = inputs.find(spec.name);
    if (v == inputs.end()) {
      if (spec.optional) continue;  // absent for the model, as in V2
      return InvalidArgument("'inputs': missing input '" + spec.name + "'");
    }
    if (Status s = AppendInput(*v, spec, r); !s.ok()) return s;
  }
  return r;
}

StatusOr<std::string> EncodeV1ColumnarResponse(const InferResponse& response) {
  if (response.outputs.empty()) {
    return Internal("model '" + response.model + "' returned no outputs");
  }
  std::set<std::string_view> names;
  for (const Tensor& t : response.outputs) {
    if (Status s = ValidateTensor(t, TensorSource::kWorker, response.model); !s.ok()) return s;
    if (!names.insert(t.name).second) {
      return Internal("model '" + response.model + "' returned output '" + t.name + "' twice");
    }
  }
  const bool keyed = response.outputs.size() > 1;
  std::string out;
  JsonTensorWriter writer(out, response.model, kMaxJsonResponseBytes);
  out += "{\"outputs\":";
  if (keyed) out.push_back('{');
  for (size_t i = 0; i < response.outputs.size(); ++i) {
    const Tensor& t = response.outputs[i];
    if (keyed) {
      if (i) out.push_back(',');
      AppendJsonString(out, t.name);
      out.push_back(':');
    }
    if (Status s = writer.Nested(t, 0, t.shape); !s.ok()) return s;
  }
  if (keyed) out.push_back('}');
  out.push_back('}');
  return out;
}

}  // namespace modelgate
