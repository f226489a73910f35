#include "config/lifecycle_keys.h"

#include <algorithm>
#include <set>

#include "common/tensor_validation.h"
#include "config/config_bounds.h"
#include "config/json_tensor.h"
#include "config/member_keys.h"

namespace modelgate {

namespace {

using namespace config_limits;
using nlohmann::json;

std::string Index(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

// ---- version_policy --------------------------------------------------------------
constexpr Key<VersionPolicy> kPolicyKeys[] = {
    {.name = "latest",
     .kind = KeyKind::kObject,
     .type_doc = "object (keys below)",
     .default_doc = "the policy when none is set, with `num_versions` 1",
     .parse =
         [](Checker& c, const json& j, const std::string& path, VersionPolicy& p) {
           p.kind = VersionPolicy::Kind::kLatest;
           return ParseObject<VersionPolicy>(c, j, path, LatestPolicyKeys(), p);
         },
     .description = "serve the highest `num_versions` versions on disk"},
    {.name = "all",
     .kind = KeyKind::kObject,
     .type_doc = "`{}`",
     .default_doc = "not set",
     .parse =
         [](Checker& c, const json& j, const std::string& path, VersionPolicy& p) {
           if (!j.is_object() || !j.empty()) return c.Fail(path, "must be {} (it takes no keys)");
           p.kind = VersionPolicy::Kind::kAll;
           return true;
         },
     .description = "serve every version on disk"},
    {.name = "specific",
     .kind = KeyKind::kObject,
     .type_doc = "object (keys below)",
     .default_doc = "not set",
     .parse =
         [](Checker& c, const json& j, const std::string& path, VersionPolicy& p) {
           p.kind = VersionPolicy::Kind::kSpecific;
           return ParseObject<VersionPolicy>(c, j, path, SpecificPolicyKeys(), p);
         },
     .description = "serve exactly the listed versions; each must have its directory"},
};

constexpr Key<VersionPolicy> kLatestKeys[] = {
    IntKey<&VersionPolicy::num_versions>("num_versions", 1, kMaxPolicyVersions,
                                         "how many of the highest versions get workers"),
};

constexpr Key<VersionPolicy> kSpecificKeys[] = {
    {.name = "versions",
     .kind = KeyKind::kCustom,
     .required = true,
     .type_doc = "non-empty array of version numbers",
     .parse =
         [](Checker& c, const json& j, const std::string& path, VersionPolicy& p) {
           if (!j.is_array() || j.empty()) {
             return c.Fail(path, "must be a non-empty array of version numbers");
           }
           if (j.size() > static_cast<size_t>(kMaxPolicyVersions)) {
             return c.Fail(path, "lists " + std::to_string(j.size()) + " versions; at most " +
                                     std::to_string(kMaxPolicyVersions) + " are allowed");
           }
           std::set<int64_t> versions;
           for (size_t i = 0; i < j.size(); ++i) {
             int64_t v = 0;
             if (!c.Int(j[i], Index(path, i), 1, kMaxVersionNumber, &v)) return false;
             if (!versions.insert(v).second) {
               return c.Fail(Index(path, i), "version " + std::to_string(v) + " is listed twice");
             }
           }
           p.versions.assign(versions.begin(), versions.end());
           return true;
         },
     .description = "the version numbers to serve"},
};

// ---- warmup ----------------------------------------------------------------------
constexpr std::string_view kWarmupInputKeys[] = {"name", "datatype", "shape", "data"};

}  // namespace

bool ParseRequestInput(Checker& c, const json& j, const std::string& at, Tensor& t) {
  if (!j.is_object()) return c.Fail(at, "must be an object with name, datatype, shape, data");
  for (const auto& [key, v] : j.items()) {
    if (std::find(std::begin(kWarmupInputKeys), std::end(kWarmupInputKeys), key) ==
        std::end(kWarmupInputKeys)) {
      return c.Fail(KeyPath(at, key),
                    "unknown key (expected " + ExpectedKeys(kWarmupInputKeys) + ")");
    }
  }
  for (std::string_view key : kWarmupInputKeys) {
    if (!j.contains(key)) return c.Fail(KeyPath(at, key), "is required");
  }
  if (!c.String(j.at("name"), KeyPath(at, "name"), &t.name)) return false;
  if (t.name.empty()) return c.Fail(KeyPath(at, "name"), "must not be empty");
  std::string datatype;
  if (!c.String(j.at("datatype"), KeyPath(at, "datatype"), &datatype)) return false;
  auto type = ParseDataType(datatype);
  if (!type) return c.Fail(KeyPath(at, "datatype"), "'" + datatype + "' is not a V2 datatype");
  t.datatype = *type;
  const json& shape = j.at("shape");
  const std::string shape_at = KeyPath(at, "shape");
  if (!shape.is_array() || shape.size() > kMaxTensorRank) {
    return c.Fail(shape_at, "must be an array of at most " + std::to_string(kMaxTensorRank) +
                                " non-negative integers");
  }
  for (size_t d = 0; d < shape.size(); ++d) {
    int64_t dim = 0;
    if (!c.Int(shape[d], Index(shape_at, d), 0, INT64_MAX, &dim)) return false;
    t.shape.push_back(dim);
  }
  // The shape is checked before the data is read.
  if (auto count = ValidateShape(t, TensorSource::kClient); !count.ok()) {
    return c.Fail(shape_at, count.status().message());
  }
  if (Status s = AppendJsonData(j.at("data"), t); !s.ok()) {
    return c.Fail(KeyPath(at, "data"), s.message());
  }
  if (Status s = ValidateTensor(t, TensorSource::kClient); !s.ok()) {
    return c.Fail(KeyPath(at, "data"), s.message());
  }
  return true;
}

bool ParseRequestInputs(Checker& c, const json& j, const std::string& path,
                        std::vector<Tensor>& out) {
  if (!j.is_array() || j.empty()) {
    return c.Fail(path, "must be a non-empty array of {name, datatype, shape, data}");
  }
  for (size_t i = 0; i < j.size(); ++i) {
    Tensor t;
    if (!ParseRequestInput(c, j[i], Index(path, i), t)) return false;
    out.push_back(std::move(t));
  }
  return true;
}

namespace {

constexpr Key<WarmupRequest> kWarmupRequestKeys[] = {
    {.name = "inputs",
     .kind = KeyKind::kCustom,
     .required = true,
     .type_doc = "array of V2 JSON inputs `{name, datatype, shape, data}`",
     .parse = [](Checker& c, const json& j, const std::string& path,
                 WarmupRequest& r) { return ParseRequestInputs(c, j, path, r.inputs); },
     .description = "the request's inputs, as a V2 REST request writes them: every declared "
                    "input once (an `optional` one may be left out), with its declared "
                    "datatype"},
};

static_assert(AllWellFormed(kPolicyKeys));
static_assert(AllWellFormed(kLatestKeys));
static_assert(AllWellFormed(kSpecificKeys));
static_assert(AllWellFormed(kWarmupRequestKeys));

std::string DeclaredNames(const std::vector<TensorSpec>& specs) {
  std::string s;
  for (const auto& t : specs) s += (s.empty() ? "" : ", ") + t.name;
  return s;
}

bool ShapeAllowed(const std::vector<int64_t>& declared, const std::vector<int64_t>& got) {
  if (declared.size() != got.size()) return false;
  for (size_t i = 0; i < got.size(); ++i) {
    if (declared[i] != -1 && declared[i] != got[i]) return false;
  }
  return true;
}

}  // namespace

std::span<const Key<VersionPolicy>> VersionPolicyKeys() { return kPolicyKeys; }
std::span<const Key<VersionPolicy>> LatestPolicyKeys() { return kLatestKeys; }
std::span<const Key<VersionPolicy>> SpecificPolicyKeys() { return kSpecificKeys; }
std::span<const Key<WarmupRequest>> WarmupRequestKeys() { return kWarmupRequestKeys; }

bool IsVersionName(std::string_view s) {
  if (s.empty() || s.size() > kMaxVersionDigits || s[0] == '0') return false;
  return std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

bool ParseVersionPolicy(Checker& c, const json& j, const std::string& path, VersionPolicy* out) {
  VersionPolicy p;
  if (!ParseObject<VersionPolicy>(c, j, path, VersionPolicyKeys(), p,
                                  "must be an object holding one of latest, all, specific")) {
    return false;
  }
  if (j.size() != 1) {
    return c.Fail(path, "must hold exactly one of latest, all, specific; it holds " +
                            std::to_string(j.size()));
  }
  *out = std::move(p);
  return true;
}

bool ParseTraffic(Checker& c, const json& j, const std::string& path,
                  std::map<int64_t, int64_t>* out) {
  if (!j.is_object() || j.empty()) {
    return c.Fail(path, "must be an object of version to weight, e.g. {\"1\": 90, \"2\": 10}");
  }
  std::map<int64_t, int64_t> traffic;
  int64_t total = 0;
  for (const auto& [version, weight] : j.items()) {
    const std::string at = KeyPath(path, version);
    if (!IsVersionName(version)) {
      return c.Fail(at, "is not a version number (a positive integer without leading zeros)");
    }
    int64_t w = 0;
    if (!c.Int(weight, at, 0, kMaxTrafficWeight, &w)) return false;
    traffic[std::stoll(version)] = w;
    total += w;
  }
  if (total == 0) return c.Fail(path, "gives every version weight 0; one must be above 0");
  *out = std::move(traffic);
  return true;
}

bool ParseWarmup(Checker& c, const json& j, const std::string& path,
                 std::vector<WarmupRequest>* out) {
  if (!j.is_array()) return c.Fail(path, "must be an array of {\"inputs\": [...]}");
  if (j.size() > kMaxWarmupRequests) {
    return c.Fail(path, "has " + std::to_string(j.size()) + " requests; at most " +
                            std::to_string(kMaxWarmupRequests) + " are allowed");
  }
  std::vector<WarmupRequest> requests;
  for (size_t i = 0; i < j.size(); ++i) {
    WarmupRequest r;
    if (!ParseObject<WarmupRequest>(c, j[i], Index(path, i), WarmupRequestKeys(), r,
                                    "must be an object {\"inputs\": [...]}")) {
      return false;
    }
    requests.push_back(std::move(r));
  }
  *out = std::move(requests);
  return true;
}

bool CheckRequestInputs(Checker& c, const ModelConfig& m, const std::string& request,
                        const std::vector<Tensor>& inputs) {
  std::set<std::string> seen;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& t = inputs[k];
    const std::string at = Index(request, k);
    auto spec = std::find_if(m.inputs.begin(), m.inputs.end(),
                             [&](const TensorSpec& s) { return s.name == t.name; });
    if (spec == m.inputs.end()) {
      return c.Fail(at + ".name", "'" + t.name + "' is not a declared input (inputs: " +
                                      DeclaredNames(m.inputs) + ")");
    }
    if (!seen.insert(t.name).second) {
      return c.Fail(at + ".name", "input '" + t.name + "' is given twice");
    }
    if (spec->datatype != t.datatype) {
      return c.Fail(at + ".datatype",
                    std::string(DataTypeName(t.datatype)) + " does not match the declared " +
                        std::string(DataTypeName(spec->datatype)) + " of input '" + t.name + "'");
    }
    if (!ShapeAllowed(spec->shape, t.shape)) {
      return c.Fail(at + ".shape", ShapeString(t.shape) + " does not match the declared " +
                                       ShapeString(spec->shape) + " of input '" + t.name + "'");
    }
  }
  for (const TensorSpec& spec : m.inputs) {
    if (!spec.optional && !seen.count(spec.name)) {
      return c.Fail(request, "misses the declared input '" + spec.name + "'");
    }
  }
  return true;
}

bool CheckWarmupInputs(Checker& c, const ModelConfig& m) {
  // Inputs declared only in code: the warm-up runs against the model as is.
  if (m.inputs.empty()) return true;
  for (size_t i = 0; i < m.warmup.size(); ++i) {
    if (!CheckRequestInputs(c, m, Index("warmup", i) + ".inputs", m.warmup[i].inputs)) {
      return false;
    }
  }
  return true;
}

}  // namespace modelgate
