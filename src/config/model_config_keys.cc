#include "config/model_config_keys.h"

#include <algorithm>

#include "config/config_bounds.h"
#include "config/drift_keys.h"
#include "config/example_keys.h"
#include "config/lifecycle_keys.h"
#include "config/member_keys.h"
#include "config/object_keys.h"

namespace modelgate {

namespace {

using namespace config_limits;
using nlohmann::json;

// ---- the top level ---------------------------------------------------------------
constexpr std::string_view kBackends[] = {"r", "python"};

// "python_path" / "r_libs": non-empty strings without control characters, bounded in count
// and length. Whether each is a directory is checked by the repository scan,
// which knows the model's directory (model_repository.cc).
bool ParseSearchPaths(Checker& c, const json& j, const std::string& path,
                      std::vector<std::string>* out) {
  if (!j.is_array()) return c.Fail(path, "must be an array of directory paths");
  if (j.size() > kMaxSearchPaths) {
    return c.Fail(path, "lists " + std::to_string(j.size()) + " directories; at most " +
                            std::to_string(kMaxSearchPaths) + " are allowed");
  }
  out->clear();
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string at = path + "[" + std::to_string(i) + "]";
    if (!j[i].is_string()) return c.Fail(at, "must be a string (a directory path)");
    std::string dir = j[i].get<std::string>();
    if (dir.empty()) return c.Fail(at, "must not be empty");
    const bool control = std::any_of(dir.begin(), dir.end(),
                                     [](unsigned char ch) { return ch < 0x20 || ch == 0x7f; });
    if (dir.size() > kMaxSearchPathBytes || control) {
      return c.Fail(at, "is not a usable path (a control character, or over " +
                            std::to_string(kMaxSearchPathBytes) + " bytes)");
    }
    out->push_back(std::move(dir));
  }
  return true;
}

constexpr Key<ModelConfig> kModelKeys[] = {
    {.name = "backend",
     .kind = KeyKind::kChoice,
     .choices = kBackends,
     .required = true,
     .missing = "is required (\"r\" or \"python\")",
     .set_string = [](ModelConfig& m,
                      std::string b) { m.backend = b == "r" ? Backend::kR : Backend::kPython; },
     .description = "which runtime runs `model.R` / `model.py`"},
    {.name = "inputs",
     .kind = KeyKind::kCustom,
     .type_doc = "array of `{name, datatype, shape, optional}`",
     .default_doc = "the signature the model's code declares",
     .parse =
         [](Checker& c, const json& j, const std::string& path, ModelConfig& m) {
           if (!ParseTensors(c, j, path, &m.inputs)) return false;
           return !m.inputs.empty() ||
                  c.Fail(path,
                         "must not be empty (leave it out when the model's code declares its "
                         "signature)");
         },
     .description = "what requests send (entries below); every input not `optional` is "
                    "required. Leave it out when `model.R` defines a zero-row data.frame "
                    "`prototype` or `model.py`'s Model a `signature` / `prototype` (the load "
                    "fails when neither declares inputs; when both do, they must agree)"},
    {.name = "outputs",
     .kind = KeyKind::kCustom,
     .type_doc = "array of `{name, datatype, shape}`",
     .default_doc = "all outputs as returned",
     .parse =
         [](Checker& c, const json& j, const std::string& path, ModelConfig& m) {
           if (!ParseTensors(c, j, path, &m.outputs)) return false;
           for (size_t i = 0; i < m.outputs.size(); ++i) {
             if (m.outputs[i].optional) {
               return c.Fail(path + "[" + std::to_string(i) + "].optional",
                             "is for inputs only; a model's declared outputs are always returned");
             }
           }
           return true;
         },
     .description = "declared outputs: filtered, ordered, converted to the datatype"},
    BoolKey<&ModelConfig::dataframe>("dataframe", "data-frame input mode (inputs must be 1-D)"),
    IntKey<&ModelConfig::workers>("workers", 1, kMaxWorkers,
                                  "warm worker processes per version, started at boot"),
    IntKey<&ModelConfig::max_queue_size>(
        "max_queue_size", 0, kMaxQueueSize,
        "requests waiting for a worker; beyond it: 429 + `Retry-After`"),
    BoolKey<&ModelConfig::required>("required", "server readiness waits for this model"),
    {.name = "interpreter",
     .kind = KeyKind::kString,
     .default_doc = "`--worker-host`",
     .set_string = [](ModelConfig& m, std::string s) { m.interpreter = std::move(s); },
     .description = "worker host for this model's workers: a `modelgate-worker` built against "
                    "another R or Python"},
    {.name = "python_path",
     .kind = KeyKind::kCustom,
     .type_doc = "array of directory paths, at most 64",
     .default_doc = "`[]`",
     .parse = [](Checker& c, const json& j, const std::string& path,
                 ModelConfig& m) { return ParseSearchPaths(c, j, path, &m.python_path); },
     .description = "backend `python` only: extra "
                    "`sys.path` entries, e.g. a virtualenv's site-packages built for the "
                    "host's Python; relative to the model's directory; each must exist at load"},
    {.name = "r_libs",
     .kind = KeyKind::kCustom,
     .type_doc = "array of directory paths, at most 64",
     .default_doc = "`[]`",
     .parse = [](Checker& c, const json& j, const std::string& path,
                 ModelConfig& m) { return ParseSearchPaths(c, j, path, &m.r_libs); },
     .description = "backend `r` only: extra R library "
                    "paths (`.libPaths()`); relative to the model's directory; each must exist "
                    "at load"},
    IntKey<&ModelConfig::startup_timeout_ms>(
        "startup_timeout_ms", kMinStartupTimeoutMs, kMaxStartupTimeoutMs,
        "a worker that has not said Hello by then is killed and replaced"),
    {.name = "env",
     .kind = KeyKind::kCustom,
     .type_doc = "object of strings",
     .default_doc = "`{}`",
     .parse =
         [](Checker& c, const json& j, const std::string& path, ModelConfig& m) {
           if (!j.is_object()) return c.Fail(path, "must be an object of strings");
           for (const auto& [k, v] : j.items()) {
             if (!v.is_string()) return c.Fail(KeyPath(path, k), "must be a string");
             m.env[k] = v.get<std::string>();
           }
           return true;
         },
     .description = "extra environment for the workers"},
    IntKey<&ModelConfig::default_timeout_ms>("default_timeout_ms", 0, kMaxTimeoutMs,
                                             "deadline of a request that brings none; `0`: none"),
    IntKey<&ModelConfig::max_timeout_ms>("max_timeout_ms", 0, kMaxTimeoutMs,
                                         "cap on any deadline, the client's included; `0`: no cap"),
    IntKey<&ModelConfig::deadline_kill_grace_ms>(
        "deadline_kill_grace_ms", 0, kMaxKillGraceMs,
        "after a running request's deadline (answered 504 at once), how long its worker may "
        "take to return by itself before it is killed and replaced"),
    IntKey<&ModelConfig::interrupt_grace_ms>(
        "interrupt_grace_ms", 0, kMaxKillGraceMs,
        "at a running request's deadline its call is interrupted "
        "(R user interrupt, Python `KeyboardInterrupt`) and the worker keeps its model; it is "
        "killed and replaced only if it has not returned this long after (replaces "
        "`deadline_kill_grace_ms` for it)"),
    {.name = "circuit_breaker",
     .kind = KeyKind::kObject,
     .type_doc = "object (keys below)",
     .default_doc = "on, defaults below",
     .parse =
         [](Checker& c, const json& j, const std::string& path, ModelConfig& m) {
           return ParseObject<CircuitBreakerConfig>(c, j, path, CircuitBreakerKeys(),
                                                    m.circuit_breaker);
         },
     .description = "resilience4j-style breaker for this model"},
    {.name = "rate_limit",
     .kind = KeyKind::kObject,
     .type_doc = "object (keys below)",
     .default_doc = "off",
     .parse =
         [](Checker& c, const json& j, const std::string& path, ModelConfig& m) {
           if (!ParseObject<ModelConfig>(c, j, path, RateLimitKeys(), m)) return false;
           if (m.rate_limit_burst == 0) m.rate_limit_burst = std::max(kMinBurst, m.rate_limit_rps);
           return true;
         },
     .description = "token bucket; beyond it: 429 + `Retry-After`"},
    {.name = "recycle",
     .kind = KeyKind::kObject,
     .type_doc = "object (keys below)",
     .default_doc = "off",
     .parse = [](Checker& c, const json& j, const std::string& path,
                 ModelConfig& m) { return ParseObject<ModelConfig>(c, j, path, RecycleKeys(), m); },
     .description = "replace a worker after N requests or above an RSS"},
    {.name = "limits",
     .kind = KeyKind::kObject,
     .type_doc = "object (keys below)",
     .default_doc = "defaults below",
     .parse =
         [](Checker& c, const json& j, const std::string& path, ModelConfig& m) {
           return ParseObject<ResourceLimits>(c, j, path, ResourceLimitKeys(), m.limits);
         },
     .description = "resource limits of each worker"},
    {.name = "dynamic_batching",
     .kind = KeyKind::kObject,
     .type_doc = "object (keys below)",
     .default_doc = "off",
     .parse =
         [](Checker& c, const json& j, const std::string& path, ModelConfig& m) {
           return ParseObject<ModelConfig>(c, j, path, BatchingKeys(), m);
         },
     .description = "concatenate concurrent requests along dim 0 (up to `max_batch_size` rows) "
                    "into one worker call and split the answers back; requests with other "
                    "inputs or inner dims go alone; every output must have the batch as its "
                    "dim 0"},
    {.name = "response_cache",
     .kind = KeyKind::kObject,
     .type_doc = "object (keys below)",
     .default_doc = "off",
     .parse =
         [](Checker& c, const json& j, const std::string& path, ModelConfig& m) {
           m.response_cache.enabled = true;
           return ParseObject<ResponseCacheConfig>(c, j, path, ResponseCacheKeys(),
                                                   m.response_cache);
         },
     .description = "answers of a deterministic model kept in memory, keyed on the exact "
                    "inputs, parameters and requested outputs: a hit never reaches a worker. "
                    "A reload starts an empty cache"},
    {.name = "version_policy",
     .kind = KeyKind::kObject,
     .type_doc = "object, exactly one key (below)",
     .default_doc = "`{\"latest\": {\"num_versions\": 1}}`",
     .parse = [](Checker& c, const json& j, const std::string& path,
                 ModelConfig& m) { return ParseVersionPolicy(c, j, path, &m.version_policy); },
     .description = "which version directories get workers; versions outside it get none. "
                    "Model level: a version's own `config.json` cannot set it"},
    {.name = "traffic",
     .kind = KeyKind::kCustom,
     .type_doc = "object: version → int 0..1000000",
     .default_doc = "the highest served version takes all",
     .parse = [](Checker& c, const json& j, const std::string& path,
                 ModelConfig& m) { return ParseTraffic(c, j, path, &m.traffic); },
     .description = "splits requests that name no version between served versions by weight, "
                    "e.g. `{\"1\": 90, \"2\": 10}`; every version named must be served. Model "
                    "level: a version's own `config.json` cannot set it"},
    {.name = "warmup",
     .kind = KeyKind::kCustom,
     .type_doc = "array of `{inputs}`, at most 16",
     .default_doc = "`[]`",
     .parse = [](Checker& c, const json& j, const std::string& path,
                 ModelConfig& m) { return ParseWarmup(c, j, path, &m.warmup); },
     .description = "requests every new worker answers before it counts as ready (entries "
                    "below); a failing one fails the load"},
    {.name = "examples",
     .kind = KeyKind::kCustom,
     .type_doc = "array of `{inputs, outputs, tolerance}`, at most 64",
     .default_doc = "`[]`",
     .parse = [](Checker& c, const json& j, const std::string& path,
                 ModelConfig& m) { return ParseExamples(c, j, path, &m.examples); },
     .description = "requests with the outputs they must give (entries below): `modelgate "
                    "check` runs them; serving ignores them"},
    {.name = "drift",
     .kind = KeyKind::kObject,
     .type_doc = "object (keys below)",
     .default_doc = "off",
     .parse =
         [](Checker& c, const json& j, const std::string& path, ModelConfig& m) {
           return ParseObject<DriftConfig>(c, j, path, DriftKeys(), m.drift);
         },
     .description = "input drift monitoring against a reference from the training data: "
                    "`modelgate_input_drift_psi` and the live histograms"},
};

static_assert(AllWellFormed(kModelKeys));
// The type column of "traffic" and "warmup" writes these bounds out.
static_assert(kMaxTrafficWeight == 1000000 && kMaxWarmupRequests == 16 && kMaxExamples == 64);
static_assert(kMaxSearchPaths == 64);  // python_path, r_libs

}  // namespace

std::span<const Key<ModelConfig>> ModelConfigKeys() { return kModelKeys; }

std::vector<TableReference> ModelConfigReference() {
  return {
      Describe<ModelConfig>("", "", kModelKeys),
      Describe<TensorSpec>("inputs[0]", "Keys of each `inputs` and `outputs` entry",
                           TensorSpecKeys()),
      Describe<CircuitBreakerConfig>("circuit_breaker", "`circuit_breaker` keys",
                                     CircuitBreakerKeys()),
      Describe<ModelConfig>("rate_limit", "`rate_limit` keys", RateLimitKeys()),
      Describe<ModelConfig>("recycle", "`recycle` keys", RecycleKeys()),
      Describe<ResourceLimits>("limits", "`limits` keys", ResourceLimitKeys()),
      Describe<ModelConfig>("dynamic_batching", "`dynamic_batching` keys", BatchingKeys()),
      Describe<ResponseCacheConfig>("response_cache", "`response_cache` keys", ResponseCacheKeys()),
      Describe<VersionPolicy>("version_policy",
                              "`version_policy` keys (exactly one; Triton's shape)",
                              VersionPolicyKeys()),
      Describe<VersionPolicy>("version_policy.latest", "`version_policy.latest` keys",
                              LatestPolicyKeys()),
      Describe<VersionPolicy>("version_policy.specific", "`version_policy.specific` keys",
                              SpecificPolicyKeys()),
      Describe<WarmupRequest>("warmup[0]", "Keys of each `warmup` entry", WarmupRequestKeys()),
      Describe<DriftConfig>("drift", "`drift` keys", DriftKeys()),
      Describe<ExampleRequest>("examples[0]", "Keys of each `examples` entry",
                               ExampleRequestKeys()),
      Describe<Tensor>("examples[0].outputs[0]", "Keys of each `examples[].outputs` entry",
                       ExampleOutputKeys()),
  };
}

}  // namespace modelgate
