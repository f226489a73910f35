#include "config/triton_model_config.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "modelgate/tensor.h"

namespace modelgate {

using nlohmann::json;

namespace {

// Longest field name or value quoted in an error.
constexpr size_t kMaxQuoted = 64;

// Client text in an error: cut, control characters replaced.
std::string Printable(std::string s) {
  if (s.size() > kMaxQuoted) s = s.substr(0, kMaxQuoted) + "...";
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return s;
}

std::string Quote(const json& v) {
  return "'" + Printable(v.is_string() ? v.get<std::string>() : v.dump()) + "'";
}

Status Bad(const std::string& field, const std::string& why) {
  return InvalidArgument(field + ": " + why);
}

// A field protobuf's JSON mapping writes at its default, or leaves out.
bool IsDefault(const json& v) {
  if (v.is_null()) return true;
  if (v.is_boolean()) return !v.get<bool>();
  if (v.is_number()) return v == 0;
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    // Enums at their zero value.
    return s.empty() || s == "0" || s == "FORMAT_NONE";
  }
  return v.empty();  // array or object
}

// Only `known` fields of `object` may hold anything but their default.
Status OnlyKnown(const json& object, const std::string& path,
                 std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    if (!IsDefault(value)) {
      return Bad(path + Printable(key),
                 "Triton's field has no modelgate equivalent (only its default is accepted)");
    }
  }
  return Status::Ok();
}

// An integer that protobuf may have written as a JSON string.
std::optional<int64_t> Int(const json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > uint64_t{INT64_MAX}) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    // At most 18 digits: always within int64.
    const size_t sign = !s.empty() && s[0] == '-' ? 1 : 0;
    if (s.size() == sign || s.size() > 18 + sign) return std::nullopt;
    for (size_t k = sign; k < s.size(); ++k) {
      if (s[k] < '0' || s[k] > '9') return std::nullopt;
    }
    return std::stoll(s);
  }
  return std::nullopt;
}

StatusOr<int64_t> IntField(const json& object, const char* key, const std::string& path,
                           int64_t fallback) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  auto v = Int(*it);
  if (!v) return Bad(path + key, Quote(*it) + " is not an integer");
  return *v;
}

StatusOr<json> Tensors(const json& list, const std::string& name, bool batching) {
  if (!list.is_array()) return Bad(name, "must be an array");
  json out = json::array();
  for (size_t i = 0; i < list.size(); ++i) {
    const json& t = list[i];
    const std::string path = name + "[" + std::to_string(i) + "].";
    if (!t.is_object()) return Bad(name + "[" + std::to_string(i) + "]", "must be an object");
    if (Status s = OnlyKnown(t, path, {"name", "data_type", "dims", "optional"}); !s.ok()) return s;
    json e = json::object();
    if (auto n = t.find("name"); n != t.end()) e["name"] = *n;  // checked by the config parser
    auto type = t.find("data_type");
    if (type == t.end() || !type->is_string()) {
      return Bad(path + "data_type", "must be a string such as \"TYPE_FP32\"");
    }
    std::string_view tname = type->get_ref<const std::string&>();
    std::optional<DataType> dt;
    if (tname.starts_with("TYPE_")) {
      tname.remove_prefix(5);
      dt = tname == "STRING" ? std::optional<DataType>(DataType::kBytes) : ParseDataType(tname);
    }
    if (!dt) return Bad(path + "data_type", Quote(*type) + " is not a Triton data type");
    e["datatype"] = std::string(DataTypeName(*dt));
    json shape = json::array();
    if (batching) shape.push_back(-1);
    auto dims = t.find("dims");
    if (dims == t.end() || !dims->is_array()) return Bad(path + "dims", "must be an array");
    for (const json& d : *dims) {
      auto v = Int(d);
      if (!v) return Bad(path + "dims", Quote(d) + " is not an integer");
      shape.push_back(*v);
    }
    e["shape"] = std::move(shape);
    if (auto o = t.find("optional"); o != t.end() && !IsDefault(*o)) e["optional"] = *o;
    out.push_back(std::move(e));
  }
  return out;
}

StatusOr<json> Policy(const json& p) {
  if (!p.is_object() || p.size() != 1) {
    return Bad("version_policy", "must hold exactly one of latest, all, specific");
  }
  // One key: read through an iterator that outlives the reads (an items()
  // proxy would not).
  const auto first = p.begin();
  const std::string& kind = first.key();
  const json& body = first.value();
  if (kind == "all") return json{{"all", json::object()}};
  if (kind == "latest") {
    auto n = IntField(body, "num_versions", "version_policy.latest.", 1);
    if (!n.ok()) return n.status();
    return json{{"latest", {{"num_versions", *n}}}};
  }
  if (kind == "specific" && body.is_object()) {
    json versions = json::array();
    auto list = body.find("versions");
    if (list == body.end() || !list->is_array()) {
      return Bad("version_policy.specific.versions", "must be an array");
    }
    for (const json& v : *list) {
      auto n = Int(v);
      if (!n) return Bad("version_policy.specific.versions", Quote(v) + " is not an integer");
      versions.push_back(*n);
    }
    return json{{"specific", {{"versions", std::move(versions)}}}};
  }
  return Bad("version_policy." + Printable(kind), "must be one of latest, all, specific");
}

}  // namespace

bool IsTritonModelConfig(const json& j) {
  if (!j.is_object() || j.contains("inputs") || j.contains("outputs")) return false;
  return j.contains("input") || j.contains("output") || j.contains("platform") ||
         j.contains("instance_group");
}

StatusOr<json> FromTritonModelConfig(const json& j) {
  if (Status s = OnlyKnown(j, "",
                           {"name", "platform", "backend", "max_batch_size", "input", "output",
                            "dynamic_batching", "instance_group", "version_policy"});
      !s.ok()) {
    return s;
  }
  json out = json::object();
  std::string backend;
  if (auto b = j.find("backend"); b != j.end() && b->is_string() && !b->empty()) {
    backend = b->get<std::string>();
  } else if (auto p = j.find("platform"); p != j.end() && p->is_string()) {
    const auto& platform = p->get_ref<const std::string&>();
    if (platform.starts_with("modelgate_")) backend = platform.substr(10);
  }
  if (backend != "r" && backend != "python") {
    return Bad("backend",
               "must be \"r\" or \"python\" (or platform \"modelgate_r\" / "
               "\"modelgate_python\")");
  }
  out["backend"] = backend;

  auto max_batch = IntField(j, "max_batch_size", "", 0);
  if (!max_batch.ok()) return max_batch.status();
  const bool batching = *max_batch > 0;
  for (const auto& [triton, ours] :
       {std::pair{"input", "inputs"}, std::pair{"output", "outputs"}}) {
    if (auto list = j.find(triton); list != j.end() && !IsDefault(*list)) {
      auto tensors = Tensors(*list, triton, batching);
      if (!tensors.ok()) return tensors.status();
      out[ours] = std::move(tensors).value();
    }
  }
  if (auto db = j.find("dynamic_batching"); db != j.end() && !db->is_null()) {
    if (!db->is_object()) return Bad("dynamic_batching", "must be an object");
    if (Status s = OnlyKnown(*db, "dynamic_batching.",
                             {"preferred_batch_size", "max_queue_delay_microseconds"});
        !s.ok()) {
      return s;
    }
    if (!batching) return Bad("dynamic_batching", "needs max_batch_size > 0");
    json batch = {{"max_batch_size", *max_batch}};
    auto delay = IntField(*db, "max_queue_delay_microseconds", "dynamic_batching.", 0);
    if (!delay.ok()) return delay.status();
    batch["max_queue_delay_us"] = *delay;
    if (auto sizes = db->find("preferred_batch_size"); sizes != db->end() && !IsDefault(*sizes)) {
      if (!sizes->is_array())
        return Bad("dynamic_batching.preferred_batch_size", "must be an array");
      batch["preferred_batch_sizes"] = *sizes;
    }
    out["dynamic_batching"] = std::move(batch);
  }
  if (auto groups = j.find("instance_group"); groups != j.end() && !IsDefault(*groups)) {
    if (!groups->is_array()) return Bad("instance_group", "must be an array");
    int64_t workers = 0;
    for (size_t i = 0; i < groups->size(); ++i) {
      const json& g = (*groups)[i];
      const std::string path = "instance_group[" + std::to_string(i) + "].";
      if (!g.is_object()) return Bad("instance_group", "entries must be objects");
      if (Status s = OnlyKnown(g, path, {"name", "kind", "count"}); !s.ok()) return s;
      if (auto kind = g.find("kind");
          kind != g.end() && !IsDefault(*kind) && *kind != "KIND_CPU" && *kind != "KIND_AUTO") {
        return Bad(path + "kind", Quote(*kind) + ": modelgate runs models on CPU (KIND_CPU)");
      }
      auto count = IntField(g, "count", path, 1);
      if (!count.ok()) return count.status();
      // Bounded by the workers key's own range when parsed; the sum cannot overflow first.
      if (*count < 0 || *count > 1 << 20) return Bad(path + "count", "is out of range");
      workers += *count == 0 ? 1 : *count;
    }
    out["workers"] = workers;
  }
  if (auto p = j.find("version_policy"); p != j.end() && !IsDefault(*p)) {
    auto policy = Policy(*p);
    if (!policy.ok()) return policy.status();
    out["version_policy"] = std::move(policy).value();
  }
  return out;
}

}  // namespace modelgate
