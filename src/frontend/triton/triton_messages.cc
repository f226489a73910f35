#include "frontend/triton/triton_messages.h"

#include <google/protobuf/util/json_util.h>

#include <nlohmann/json.hpp>
#include <string_view>

namespace modelgate {

namespace {

// The 64-bit integer fields of the messages above, which protobuf's JSON
// mapping writes as strings and Triton's REST API as numbers.
bool Is64BitField(std::string_view key) {
  for (std::string_view k :
       {"dims", "versions", "max_queue_delay_microseconds", "count", "ns", "last_inference",
        "inference_count", "execution_count", "batch_size"}) {
    if (key == k) return true;
  }
  return false;
}

nlohmann::json AsNumber(const nlohmann::json& v) {
  if (!v.is_string()) return v;
  const std::string& s = v.get_ref<const std::string&>();
  try {
    size_t used = 0;
    if (!s.empty() && s[0] == '-') {
      const long long n = std::stoll(s, &used);
      if (used == s.size()) return n;
    } else {
      const unsigned long long n = std::stoull(s, &used);
      if (used == s.size()) return n;
    }
  } catch (const std::exception&) {
  }
  return v;
}

void NumbersFor64BitFields(nlohmann::json& j) {
  if (j.is_array()) {
    for (auto& e : j) NumbersFor64BitFields(e);
    return;
  }
  if (!j.is_object()) return;
  for (auto& [key, value] : j.items()) {
    if (Is64BitField(key)) {
      if (value.is_array()) {
        for (auto& e : value) e = AsNumber(e);
      } else {
        value = AsNumber(value);
      }
    }
    NumbersFor64BitFields(value);
  }
}

void FillDuration(const DurationStat& d, inference::StatisticDuration* out) {
  out->set_count(d.count);
  out->set_ns(d.ns);
}

}  // namespace

inference::DataType ToTritonDataType(DataType type) {
  switch (type) {
    case DataType::kBool:
      return inference::TYPE_BOOL;
    case DataType::kUint8:
      return inference::TYPE_UINT8;
    case DataType::kUint16:
      return inference::TYPE_UINT16;
    case DataType::kUint32:
      return inference::TYPE_UINT32;
    case DataType::kUint64:
      return inference::TYPE_UINT64;
    case DataType::kInt8:
      return inference::TYPE_INT8;
    case DataType::kInt16:
      return inference::TYPE_INT16;
    case DataType::kInt32:
      return inference::TYPE_INT32;
    case DataType::kInt64:
      return inference::TYPE_INT64;
    case DataType::kFp16:
      return inference::TYPE_FP16;
    case DataType::kFp32:
      return inference::TYPE_FP32;
    case DataType::kFp64:
      return inference::TYPE_FP64;
    case DataType::kBytes:
      return inference::TYPE_STRING;
    case DataType::kBf16:
      return inference::TYPE_BF16;
  }
  return inference::TYPE_INVALID;
}

inference::ModelConfig ToTritonConfig(const ModelConfig& c) {
  inference::ModelConfig out;
  out.set_name(c.name);
  out.set_platform("modelgate_" + std::string(BackendName(c.backend)));
  out.set_backend(std::string(BackendName(c.backend)));
  const bool batching = c.max_batch_size > 0;
  out.set_max_batch_size(c.max_batch_size);
  // Triton's dims of a batching model describe one row.
  auto dims = [batching](const TensorSpec& s, auto* field) {
    const size_t skip = batching && !s.shape.empty() ? 1 : 0;
    field->Add(s.shape.begin() + static_cast<std::ptrdiff_t>(skip), s.shape.end());
  };
  for (const auto& s : c.inputs) {
    auto* in = out.add_input();
    in->set_name(s.name);
    in->set_data_type(ToTritonDataType(s.datatype));
    dims(s, in->mutable_dims());
    in->set_optional(s.optional);
  }
  for (const auto& s : c.outputs) {
    auto* o = out.add_output();
    o->set_name(s.name);
    o->set_data_type(ToTritonDataType(s.datatype));
    dims(s, o->mutable_dims());
  }
  if (batching) {
    auto* b = out.mutable_dynamic_batching();
    for (int size : c.preferred_batch_sizes) b->add_preferred_batch_size(size);
    b->set_max_queue_delay_microseconds(static_cast<uint64_t>(c.max_queue_delay_us));
  }
  auto* group = out.add_instance_group();
  group->set_name(c.name);
  group->set_kind(inference::ModelInstanceGroup::KIND_CPU);
  group->set_count(c.workers);
  auto* policy = out.mutable_version_policy();
  switch (c.version_policy.kind) {
    case VersionPolicy::Kind::kLatest:
      policy->mutable_latest()->set_num_versions(
          static_cast<uint32_t>(c.version_policy.num_versions));
      break;
    case VersionPolicy::Kind::kAll:
      policy->mutable_all();
      break;
    case VersionPolicy::Kind::kSpecific:
      for (int64_t v : c.version_policy.versions) policy->mutable_specific()->add_versions(v);
      break;
  }
  return out;
}

inference::ModelStatisticsResponse ToTritonStatistics(const std::vector<ModelVersionStats>& stats) {
  inference::ModelStatisticsResponse out;
  for (const auto& s : stats) {
    auto* m = out.add_model_stats();
    m->set_name(s.name);
    m->set_version(std::to_string(s.version));
    m->set_last_inference(s.last_inference_ms);
    m->set_inference_count(s.inference_count);
    m->set_execution_count(s.execution_count);
    auto* i = m->mutable_inference_stats();
    FillDuration(s.success, i->mutable_success());
    FillDuration(s.fail, i->mutable_fail());
    FillDuration(s.queue, i->mutable_queue());
    FillDuration(s.compute_infer, i->mutable_compute_infer());
    // Present with zeros, as Triton answers them.
    i->mutable_compute_input();
    i->mutable_compute_output();
    i->mutable_cache_hit();
    i->mutable_cache_miss();
    for (const auto& b : s.batches) {
      auto* out_b = m->add_batch_stats();
      out_b->set_batch_size(b.batch_size);
      FillDuration(b.compute_infer, out_b->mutable_compute_infer());
      out_b->mutable_compute_input();
      out_b->mutable_compute_output();
    }
  }
  return out;
}

std::string ToTritonJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string text;
  if (!google::protobuf::util::MessageToJsonString(message, &text, options).ok()) return "{}";
  nlohmann::json j = nlohmann::json::parse(text);
  NumbersFor64BitFields(j);
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace modelgate
