#include "frontend/http/rest_codec.h"

#include <nlohmann/json.hpp>

#include "frontend/http/json_tensor.h"
#include "frontend/http/json_writer.h"

namespace modelgate {

using nlohmann::json;

namespace {

StatusOr<json> ParseBody(std::string_view body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return InvalidArgument("malformed JSON: the request body does not parse as JSON");
  }
  if (!j.is_object()) return InvalidArgument("the request body must be a JSON object");
  return j;
}

Status ParseInput(const json& in, size_t index, Tensor* t) {
  const std::string at = "inputs[" + std::to_string(index) + "]";
  if (!in.is_object()) return InvalidArgument(at + " must be an object");
  auto name = in.find("name");
  if (name == in.end() || !name->is_string())
    return InvalidArgument(at + ": 'name' must be a string");
  t->name = name->get<std::string>();
  const std::string where = "input '" + t->name + "': ";
  auto datatype = in.find("datatype");
  if (datatype == in.end() || !datatype->is_string()) {
    return InvalidArgument(where + "'datatype' must be a string such as \"FP64\"");
  }
  auto type = ParseDataType(datatype->get<std::string>());
  if (!type) return InvalidArgument(where + "unknown datatype " + datatype->dump());
  t->datatype = *type;
  auto shape = in.find("shape");
  if (shape == in.end() || !shape->is_array()) {
    return InvalidArgument(where + "'shape' must be an array of non-negative integers");
  }
  for (const auto& d : *shape) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0) {
      return InvalidArgument(where + "'shape' must be an array of non-negative integers, got " +
                             shape->dump());
    }
    t->shape.push_back(d.get<int64_t>());
  }
  auto data = in.find("data");
  if (data == in.end()) return InvalidArgument(where + "'data' is missing");
  Status s = AppendJsonData(*data, *t);
  if (!s.ok()) return s;
  if (t->HeldElements() != t->ElementCount()) {
    return InvalidArgument(where + "shape " + ShapeString(t->shape) + " needs " +
                           std::to_string(t->ElementCount()) + " elements, data has " +
                           std::to_string(t->HeldElements()));
  }
  return Status::Ok();
}

}  // namespace

StatusOr<InferRequest> ParseV2InferRequest(std::string_view body) {
  auto parsed = ParseBody(body);
  if (!parsed.ok()) return parsed.status();
  const json& j = *parsed;
  InferRequest r;
  if (auto id = j.find("id"); id != j.end()) {
    if (!id->is_string()) return InvalidArgument("'id' must be a string");
    r.id = id->get<std::string>();
  }
  if (auto params = j.find("parameters"); params != j.end()) {
    if (!params->is_object()) return InvalidArgument("'parameters' must be an object");
    if (auto timeout = params->find("timeout"); timeout != params->end()) {
      // Microseconds, as Triton reads it.
      if (!timeout->is_number_integer() || timeout->get<int64_t>() <= 0) {
        return InvalidArgument("parameter 'timeout' must be a positive integer (microseconds)");
      }
      r.deadline =
          std::chrono::steady_clock::now() + std::chrono::microseconds(timeout->get<int64_t>());
    }
  }
  auto inputs = j.find("inputs");
  if (inputs == j.end() || !inputs->is_array()) {
    return InvalidArgument("'inputs' must be an array of tensors");
  }
  r.inputs.resize(inputs->size());
  for (size_t i = 0; i < inputs->size(); ++i) {
    Status s = ParseInput((*inputs)[i], i, &r.inputs[i]);
    if (!s.ok()) return s;
  }
  if (auto outputs = j.find("outputs"); outputs != j.end()) {
    if (!outputs->is_array()) return InvalidArgument("'outputs' must be an array of {name}");
    for (const auto& o : *outputs) {
      if (!o.is_object() || !o.contains("name") || !o["name"].is_string()) {
        return InvalidArgument("'outputs' entries must be objects with a string 'name'");
      }
      r.requested_outputs.push_back(o["name"].get<std::string>());
    }
  }
  return r;
}

std::string EncodeV2InferResponse(const InferResponse& response) {
  std::string out;
  size_t payload = 0;
  for (const Tensor& t : response.outputs) payload += t.raw.size() * 3 + t.strings.size() * 8;
  out.reserve(128 + payload);
  out += "{\"model_name\":";
  AppendJsonString(out, response.model);
  out += ",\"model_version\":";
  AppendJsonString(out, response.version);
  out += ",\"id\":";
  AppendJsonString(out, response.id);
  out += ",\"outputs\":[";
  for (size_t i = 0; i < response.outputs.size(); ++i) {
    const Tensor& t = response.outputs[i];
    if (i) out.push_back(',');
    out += "{\"name\":";
    AppendJsonString(out, t.name);
    out += ",\"datatype\":\"";
    out += DataTypeName(t.datatype);
    out += "\",\"shape\":[";
    for (size_t d = 0; d < t.shape.size(); ++d) {
      if (d) out.push_back(',');
      out += std::to_string(t.shape[d]);
    }
    out += "],\"data\":";
    AppendJsonArray(out, t);
    out.push_back('}');
  }
  out += "]}";
  return out;
}

StatusOr<InferRequest> ParseV1PredictRequest(std::string_view body, const ModelConfig& config) {
  auto parsed = ParseBody(body);
  if (!parsed.ok()) return parsed.status();
  auto instances = parsed->find("instances");
  if (instances == parsed->end() || !instances->is_array()) {
    return InvalidArgument("'instances' must be an array of rows");
  }
  const auto& specs = config.inputs;
  InferRequest r;
  r.inputs.resize(specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    r.inputs[i].name = specs[i].name;
    r.inputs[i].datatype = specs[i].datatype;
    r.inputs[i].shape = specs[i].shape;
    r.inputs[i].shape[0] = static_cast<int64_t>(instances->size());
  }
  bool all_1d = true;
  for (const auto& s : specs) all_1d = all_1d && s.shape.size() == 1;
  for (size_t row = 0; row < instances->size(); ++row) {
    const json& inst = (*instances)[row];
    const std::string at = "instances[" + std::to_string(row) + "]";
    if (inst.is_object()) {
      for (size_t i = 0; i < specs.size(); ++i) {
        auto v = inst.find(specs[i].name);
        if (v == inst.end()) return InvalidArgument(at + ": missing input '" + specs[i].name + "'");
        Status s = AppendJsonData(*v, r.inputs[i]);
        if (!s.ok()) return Status(s.code(), at + ": " + s.message());
      }
      for (const auto& [k, v] : inst.items()) {
        if (std::none_of(specs.begin(), specs.end(), [&](auto& s) { return s.name == k; })) {
          return InvalidArgument(at + ": unknown input '" + k + "'");
        }
      }
    } else if (specs.size() == 1) {
      Status s = AppendJsonData(inst, r.inputs[0]);
      if (!s.ok()) return Status(s.code(), at + ": " + s.message());
    } else if (all_1d && inst.is_array() && inst.size() == specs.size()) {
      for (size_t i = 0; i < specs.size(); ++i) {
        if (inst[i].is_array())
          return InvalidArgument(at + ": input '" + specs[i].name + "' must be a scalar");
        Status s = AppendJsonData(inst[i], r.inputs[i]);
        if (!s.ok()) return Status(s.code(), at + ": " + s.message());
      }
    } else {
      return InvalidArgument(at + ": expected an object keyed by input name (" +
                             std::to_string(specs.size()) + " inputs)");
    }
  }
  // Wildcard inner dims are not known from rows; a mismatch shows up here.
  for (auto& t : r.inputs) {
    int64_t rows = t.shape[0];
    int64_t per_row = rows > 0 ? t.HeldElements() / rows : 0;
    for (size_t d = 1; d < t.shape.size(); ++d) {
      if (t.shape[d] == -1) t.shape[d] = per_row;
    }
  }
  return r;
}

StatusOr<std::string> EncodeV1PredictResponse(const InferResponse& response) {
  if (response.outputs.empty()) return Internal("the model returned no outputs");
  const int64_t rows = response.outputs[0].shape.empty() ? 1 : response.outputs[0].shape[0];
  for (const Tensor& t : response.outputs) {
    if (t.shape.empty() || t.shape[0] != rows) {
      return InvalidArgument("output '" + t.name + "' has shape " + ShapeString(t.shape) +
                             ", which does not split into " + std::to_string(rows) +
                             " rows; use the V2 API for this model");
    }
  }
  json predictions = json::array();
  for (int64_t row = 0; row < rows; ++row) {
    if (response.outputs.size() == 1) {
      const Tensor& t = response.outputs[0];
      predictions.push_back(JsonRow(t, row, {t.shape.begin() + 1, t.shape.end()}));
    } else {
      json obj = json::object();
      for (const Tensor& t : response.outputs) {
        obj[t.name] = JsonRow(t, row, {t.shape.begin() + 1, t.shape.end()});
      }
      predictions.push_back(std::move(obj));
    }
  }
  return json{{"predictions", std::move(predictions)}}.dump(-1, ' ', false,
                                                            json::error_handler_t::replace);
}

}  // namespace modelgate
