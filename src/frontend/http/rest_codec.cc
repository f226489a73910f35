#include "frontend/http/rest_codec.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "common/deadline.h"
#include "common/tensor_validation.h"
#include "config/json_tensor.h"
#include "frontend/http/binary_tensor.h"
#include "frontend/http/json_writer.h"
#include "frontend/http/rest_v1_columnar.h"
#include "modelgate/model_repository.h"
#include "observability/request_id.h"

namespace modelgate {

using nlohmann::json;

namespace {

// The parser's own message is not echoed (it quotes the body); the offset is.
StatusOr<json> ParseBody(std::string_view body) {
  if (Status s = CheckJsonText(body); !s.ok()) return s;
  json j;
  try {
    j = json::parse(body);
  } catch (const json::parse_error& e) {
    // nlohmann counts bytes from 1, and past the end for a truncated document.
    const size_t at = std::min<size_t>(e.byte > 0 ? e.byte - 1 : 0, body.size());
    const bool trailing =
        std::string_view(e.what()).find("expected end of input") != std::string_view::npos;
    return InvalidArgument(
        trailing ? "malformed JSON: unexpected text after the end of the JSON document at byte " +
                       std::to_string(at)
                 : "malformed JSON: the request body does not parse as JSON (error at byte " +
                       std::to_string(at) + ")");
  } catch (const json::exception&) {
    // out_of_range.406: a number too large for a double (1e400); without
    // this catch it would escape the handler and end the process.
    return InvalidArgument("malformed JSON: a number in the request body is out of range");
  }
  if (!j.is_object()) return InvalidArgument("the request body must be a JSON object");
  return j;
}

}  // namespace

StatusOr<std::optional<std::string>> ParseRepositoryLoadRequest(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return std::optional<std::string>();
  }
  auto j = ParseBody(body);
  if (!j.ok()) return j.status();
  std::optional<std::string> config;
  for (const auto& [key, value] : j->items()) {
    if (key != "parameters") {
      return InvalidArgument("load request: unknown key '" + key.substr(0, 64) +
                             "' (expected \"parameters\")");
    }
    if (!value.is_object()) return InvalidArgument("load request: 'parameters' must be an object");
    for (const auto& [name, p] : value.items()) {
      if (Status s =
              CheckLoadParameter(name, p.is_string() ? &p.get_ref<const std::string&>() : nullptr);
          !s.ok())
        return s;
      config = p.get<std::string>();
    }
  }
  return std::optional<std::string>(std::move(config));
}

namespace {

// parameters.timeout in microseconds, as Triton reads it. Huge values are
// clamped by DeadlineAfter (they mean "no client deadline"), never wrapped.
StatusOr<SteadyTime> TimeoutDeadline(const json& timeout, SteadyTime now) {
  constexpr int64_t kMaxUs = std::numeric_limits<int64_t>::max();
  int64_t us = 0;
  if (timeout.is_number_unsigned()) {
    us = static_cast<int64_t>(std::min<uint64_t>(timeout.get<uint64_t>(), kMaxUs));
  } else if (timeout.is_number_integer()) {
    us = timeout.get<int64_t>();
  } else if (timeout.is_number_float()) {
    const double d = timeout.get<double>();
    if (std::trunc(d) == d) us = d >= 9.2e18 ? kMaxUs : static_cast<int64_t>(d);
  }
  if (us <= 0) {
    return InvalidArgument("parameter 'timeout' must be a positive integer (microseconds), got " +
                           DescribeJson(timeout));
  }
  return DeadlineAfter(now, std::chrono::microseconds(us));
}

// Every body parameter the daemon does not own goes to the model, checked
// key by key before its value is copied.
Status ReadModelParameters(const json& params, Parameters& out) {
  for (const auto& [key, value] : params.items()) {
    if (IsDaemonParameter(key)) continue;
    if (Status s = CheckParameterKey(key, out.size()); !s.ok()) return s;
    ParameterValue v;
    if (value.is_boolean()) {
      v = value.get<bool>();
    } else if (value.is_number_unsigned()) {
      if (value.get<uint64_t>() > uint64_t{std::numeric_limits<int64_t>::max()}) {
        return InvalidArgument("request parameter '" + key + "': " + DescribeJson(value) +
                               " does not fit a 64-bit signed integer");
      }
      v = value.get<int64_t>();
    } else if (value.is_number_integer()) {
      v = value.get<int64_t>();
    } else if (value.is_number_float()) {
      v = value.get<double>();
    } else if (value.is_string()) {
      if (Status s = CheckParameterString(key, value.get_ref<const std::string&>()); !s.ok()) {
        return s;
      }
      v = value.get<std::string>();
    } else {
      return InvalidArgument("request parameter '" + key +
                             "' must be a boolean, a number or a string, got " +
                             DescribeJson(value));
    }
    out.emplace(key, std::move(v));
  }
  return Status::Ok();
}

Status ParseShape(const json& shape, const std::string& where, Tensor* t) {
  if (!shape.is_array()) {
    return InvalidArgument(where + "'shape' must be an array of non-negative integers");
  }
  if (shape.size() > kMaxTensorRank) {
    return InvalidArgument(where + "shape has " + std::to_string(shape.size()) +
                           " dimensions; at most " + std::to_string(kMaxTensorRank) +
                           " are allowed");
  }
  for (const auto& d : shape) {
    const bool ok = d.is_number_unsigned()
                        ? d.get<uint64_t>() <= uint64_t{std::numeric_limits<int64_t>::max()}
                        : d.is_number_integer() && d.get<int64_t>() >= 0;
    if (!ok) {
      return InvalidArgument(where + "'shape' must be an array of non-negative integers, got " +
                             DescribeJson(d));
    }
    t->shape.push_back(d.get<int64_t>());
  }
  return Status::Ok();
}

// `binary`: the input's binary data when it names a binary_data_size.
Status ParseInput(const json& in, size_t index, std::optional<std::string_view> binary, Tensor* t) {
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
  if (!type) return InvalidArgument(where + "unknown datatype " + DescribeJson(*datatype));
  t->datatype = *type;
  auto shape = in.find("shape");
  if (shape == in.end()) {
    return InvalidArgument(where + "'shape' must be an array of non-negative integers");
  }
  if (Status s = ParseShape(*shape, where, t); !s.ok()) return s;
  // The shape is checked before the data is read.
  if (auto count = ValidateShape(*t, TensorSource::kClient); !count.ok()) return count.status();
  auto data = in.find("data");
  if (binary) {
    if (data != in.end()) {
      return InvalidArgument(where +
                             "has both 'data' and parameters.binary_data_size; send one of them");
    }
    if (Status s = DecodeBinaryTensor(*binary, *t); !s.ok()) return s;
    return ValidateTensor(*t, TensorSource::kClient);
  }
  if (data == in.end()) {
    return InvalidArgument(where + "'data' is missing (and no parameters.binary_data_size)");
  }
  if (Status s = AppendJsonData(*data, *t); !s.ok()) return s;
  return ValidateTensor(*t, TensorSource::kClient);
}

}  // namespace

StatusOr<InferRequest> ParseV2InferRequest(std::string_view body, SteadyTime now,
                                           std::optional<size_t> json_bytes) {
  std::string_view binary;
  if (json_bytes) {
    if (*json_bytes == 0) {
      return InvalidArgument("header " + std::string(kInferHeaderContentLength) +
                             " is 0: Triton's raw binary request (a body without the JSON "
                             "inference header) is not supported; send the JSON first");
    }
    if (*json_bytes > body.size()) {
      return InvalidArgument("header " + std::string(kInferHeaderContentLength) + " is " +
                             std::to_string(*json_bytes) + ", but the body has only " +
                             std::to_string(body.size()) + " bytes");
    }
    binary = body.substr(*json_bytes);
    body = body.substr(0, *json_bytes);
  }
  auto parsed = ParseBody(body);
  if (!parsed.ok()) return parsed.status();
  const json& j = *parsed;
  InferRequest r;
  if (auto id = j.find("id"); id != j.end()) {
    if (!id->is_string()) return InvalidArgument("'id' must be a string");
    if (Status s = ValidateRequestId(id->get_ref<const std::string&>(), "body field 'id'");
        !s.ok()) {
      return s;
    }
    r.id = id->get<std::string>();
  }
  if (auto params = j.find("parameters"); params != j.end()) {
    if (!params->is_object()) return InvalidArgument("'parameters' must be an object");
    if (auto timeout = params->find("timeout"); timeout != params->end()) {
      auto deadline = TimeoutDeadline(*timeout, now);
      if (!deadline.ok()) return deadline.status();
      r.deadline = *deadline;
    }
    if (Status s = ReadBinaryDataOutput(*params, r.binary_outputs); !s.ok()) return s;
    if (Status s = ReadModelParameters(*params, r.parameters); !s.ok()) return s;
  }
  auto inputs = j.find("inputs");
  if (inputs == j.end() || !inputs->is_array()) {
    return InvalidArgument("'inputs' must be an array of tensors");
  }
  // Every binary_data_size is checked against the bytes present before any
  // input is decoded.
  if (Status s = CheckBinaryDataSizes(*inputs, json_bytes.has_value(), binary.size()); !s.ok()) {
    return s;
  }
  size_t offset = 0;  // into `binary`; the sizes are checked to fit
  // Grown as inputs parse, not sized up front: a body of 10^7 tiny array
  // items must fail at the first one, not allocate 10^7 Tensors first.
  for (size_t i = 0; i < inputs->size(); ++i) {
    Tensor t;
    std::optional<std::string_view> data;
    if (auto size = InputBinaryDataSize((*inputs)[i], i); size.ok() && *size) {
      data = binary.substr(offset, **size);
      offset += **size;
    }
    if (Status s = ParseInput((*inputs)[i], i, data, &t); !s.ok()) return s;
    r.inputs.push_back(std::move(t));
  }
  if (auto outputs = j.find("outputs"); outputs != j.end()) {
    if (!outputs->is_array()) return InvalidArgument("'outputs' must be an array of {name}");
    for (const auto& o : *outputs) {
      auto name = o.is_object() ? o.find("name") : o.end();
      if (!o.is_object() || name == o.end() || !name->is_string()) {
        return InvalidArgument("'outputs' entries must be objects with a string 'name'");
      }
      if (Status s = ReadOutputBinaryData(o, r.binary_outputs); !s.ok()) return s;
      r.requested_outputs.push_back(name->get<std::string>());
    }
  }
  return r;
}

namespace {

// The V2 JSON response; each output `binary` selects gets
// parameters.binary_data_size instead of "data" and its binary form after
// the JSON (`binary` null: every output as JSON).
StatusOr<V2ResponseBody> EncodeV2(const InferResponse& response, const BinaryOutputs* binary) {
  V2ResponseBody result;
  std::string& out = result.body;
  size_t payload = 0;
  for (const Tensor& t : response.outputs) payload += t.raw.size() * 3 + t.strings.size() * 8;
  out.reserve(128 + std::min(payload, kMaxJsonResponseBytes));
  JsonTensorWriter writer(out, response.model, kMaxJsonResponseBytes);
  std::vector<const Tensor*> binary_outputs;
  size_t binary_bytes = 0;
  out += "{\"model_name\":";
  AppendJsonString(out, response.model);
  out += ",\"model_version\":";
  AppendJsonString(out, response.version);
  out += ",\"id\":";
  AppendJsonString(out, response.id);
  out += ",\"outputs\":[";
  for (size_t i = 0; i < response.outputs.size(); ++i) {
    const Tensor& t = response.outputs[i];
    if (Status s = ValidateTensor(t, TensorSource::kWorker, response.model); !s.ok()) return s;
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
    if (binary && binary->Binary(t.name)) {
      auto size = BinaryTensorSize(t, response.model);
      if (!size.ok()) return size.status();
      binary_bytes += *size;
      if (binary_bytes > kMaxJsonResponseBytes) {
        return Internal("model '" + response.model + "': the binary outputs exceed " +
                        std::to_string(kMaxJsonResponseBytes) + " bytes");
      }
      binary_outputs.push_back(&t);
      out += "],\"parameters\":{\"binary_data_size\":" + std::to_string(*size) + "}}";
      continue;
    }
    out += "],\"data\":";
    if (Status s = writer.Flat(t); !s.ok()) return s;
    out.push_back('}');
  }
  out += "]}";
  if (!binary_outputs.empty()) {
    result.json_bytes = out.size();
    out.reserve(out.size() + binary_bytes);
    for (const Tensor* t : binary_outputs) AppendBinaryTensor(*t, out);
  }
  return result;
}

}  // namespace

StatusOr<std::string> EncodeV2InferResponse(const InferResponse& response) {
  auto encoded = EncodeV2(response, nullptr);
  if (!encoded.ok()) return encoded.status();
  return std::move(encoded->body);
}

StatusOr<V2ResponseBody> EncodeV2InferResponse(const InferResponse& response,
                                               const BinaryOutputs& binary) {
  return EncodeV2(response, &binary);
}

StatusOr<InferRequest> ParseV1PredictRequest(std::string_view body, const ModelConfig& config,
                                             bool* columnar) {
  auto parsed = ParseBody(body);
  if (!parsed.ok()) return parsed.status();
  auto instances = parsed->find("instances");
  if (auto inputs = parsed->find("inputs"); inputs != parsed->end()) {
    if (instances != parsed->end()) {
      return InvalidArgument(
          "send either 'instances' (row form) or 'inputs' (columnar form), not both");
    }
    if (columnar) *columnar = true;
    return ParseV1ColumnarInputs(*inputs, config);
  }
  if (instances == parsed->end() || !instances->is_array()) {
    return InvalidArgument(
        "'instances' must be an array of rows (or send TF-Serving's columnar 'inputs')");
  }
  if (instances->empty()) {
    return InvalidArgument("'instances' is empty; send at least one row");
  }
  const auto& specs = config.inputs;
  InferRequest r;
  r.inputs.resize(specs.size());
  // Each input's shape per row: what the model declares after its first dim;
  // a -1 there is fixed by the first row, and every row must match it.
  std::vector<std::vector<int64_t>> row_shape(specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    r.inputs[i].name = specs[i].name;
    r.inputs[i].datatype = specs[i].datatype;
    if (!specs[i].shape.empty()) {
      row_shape[i].assign(specs[i].shape.begin() + 1, specs[i].shape.end());
    }
  }
  auto append_row = [&](const json& v, size_t i, size_t row) -> Status {
    const TensorSpec& spec = specs[i];
    auto at = [&] { return "instances[" + std::to_string(row) + "]: input '" + spec.name + "'"; };
    auto got = JsonShape(v);
    if (!got) {
      return InvalidArgument(at() + " is ragged or holds an object; each row must have shape " +
                             ShapeString(row_shape[i]));
    }
    bool match = got->size() == row_shape[i].size();
    for (size_t d = 0; match && d < got->size(); ++d) {
      match = row_shape[i][d] == -1 || row_shape[i][d] == (*got)[d];
    }
    if (!match) {
      return InvalidArgument(at() + " has a row of shape " + ShapeString(*got) + ", expected " +
                             ShapeString(row_shape[i]) + " per row (the model declares " +
                             ShapeString(spec.shape) + ")");
    }
    if (row == 0) row_shape[i] = std::move(*got);  // fixes any -1 for the rows that follow
    Status s = AppendJsonData(v, r.inputs[i]);
    return s.ok() ? s : Status(s.code(), "instances[" + std::to_string(row) + "]: " + s.message());
  };
  bool all_1d = true;
  for (const auto& s : specs) all_1d = all_1d && s.shape.size() == 1;
  for (size_t row = 0; row < instances->size(); ++row) {
    const json& inst = (*instances)[row];
    auto at = [row] { return "instances[" + std::to_string(row) + "]"; };
    if (inst.is_object()) {
      for (const auto& item : inst.items()) {
        const std::string& key = item.key();
        if (std::none_of(specs.begin(), specs.end(), [&](auto& s) { return s.name == key; })) {
          return InvalidArgument(at() + ": unknown input '" + key + "'");
        }
      }
      for (size_t i = 0; i < specs.size(); ++i) {
        auto v = inst.find(specs[i].name);
        if (v == inst.end())
          return InvalidArgument(at() + ": missing input '" + specs[i].name + "'");
        if (Status s = append_row(*v, i, row); !s.ok()) return s;
      }
    } else if (specs.size() == 1) {
      if (Status s = append_row(inst, 0, row); !s.ok()) return s;
    } else if (all_1d && inst.is_array() && inst.size() == specs.size()) {
      for (size_t i = 0; i < specs.size(); ++i) {
        if (Status s = append_row(inst[i], i, row); !s.ok()) return s;
      }
    } else {
      return InvalidArgument(at() + ": expected an object keyed by input name (" +
                             std::to_string(specs.size()) + " inputs)");
    }
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    Tensor& t = r.inputs[i];
    t.shape = {static_cast<int64_t>(instances->size())};
    t.shape.insert(t.shape.end(), row_shape[i].begin(), row_shape[i].end());
    if (Status s = ValidateTensor(t, TensorSource::kClient); !s.ok()) return s;
  }
  return r;
}

StatusOr<std::string> EncodeV1PredictResponse(const InferResponse& response) {
  if (response.outputs.empty()) {
    return Internal("model '" + response.model + "' returned no outputs");
  }
  const int64_t rows = response.outputs[0].shape.empty() ? 1 : response.outputs[0].shape[0];
  std::set<std::string_view> names;
  for (const Tensor& t : response.outputs) {
    if (Status s = ValidateTensor(t, TensorSource::kWorker, response.model); !s.ok()) return s;
    if (!names.insert(t.name).second) {
      return Internal("model '" + response.model + "' returned output '" + t.name + "' twice");
    }
    if (t.shape.empty() || t.shape[0] != rows) {
      return InvalidArgument("output '" + t.name + "' has shape " + ShapeString(t.shape) +
                             ", which does not split into " + std::to_string(rows) +
                             " rows; use the V2 API for this model");
    }
  }
  // Each output's shape per row, and its elements per row. Validated above,
  // so neither the count nor row * per_row overflows, and an empty output
  // has at most kMaxEmptyOutputRows rows.
  struct Layout {
    std::vector<int64_t> dims;
    int64_t per_row;
  };
  std::vector<Layout> layouts;
  for (const Tensor& t : response.outputs) {
    std::vector<int64_t> dims(t.shape.begin() + 1, t.shape.end());
    const int64_t per_row = CheckedElementCount(dims).value_or(0);
    layouts.push_back({std::move(dims), per_row});
  }
  const bool keyed = response.outputs.size() > 1;
  std::string out;
  JsonTensorWriter writer(out, response.model, kMaxJsonResponseBytes);
  out += "{\"predictions\":[";
  for (int64_t row = 0; row < rows; ++row) {
    if (row) out.push_back(',');
    if (keyed) out.push_back('{');
    for (size_t i = 0; i < response.outputs.size(); ++i) {
      const Tensor& t = response.outputs[i];
      if (keyed) {
        if (i) out.push_back(',');
        AppendJsonString(out, t.name);
        out.push_back(':');
      }
      Status s = writer.Nested(t, row * layouts[i].per_row, layouts[i].dims);
      if (!s.ok()) return s;
    }
    if (keyed) out.push_back('}');
  }
  out += "]}";
  return out;
}

}  // namespace modelgate
