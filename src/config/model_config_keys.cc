#include "config/model_config_keys.h"

#include <algorithm>
#include <set>

namespace modelgate {

namespace {

using nlohmann::json;

// ---- bounds of the numeric keys ---------------------------------------------
constexpr int64_t kMaxWorkers = 256;
constexpr int64_t kMaxQueueSize = 1000000;
constexpr int64_t kMinStartupTimeoutMs = 100;
constexpr int64_t kMaxStartupTimeoutMs = 3600000;  // 1 h
constexpr int64_t kMaxTimeoutMs = 86400000;        // 1 day: request deadlines, breaker open time
constexpr int64_t kMaxKillGraceMs = 3600000;
constexpr int64_t kMaxBreakerWindow = 100000;  // window_size and minimum_calls
constexpr int64_t kMaxHalfOpenCalls = 10000;
constexpr double kMinFailureRatePercent = 1;
constexpr double kMaxFailureRatePercent = 100;
constexpr double kMinRequestsPerSecond = 0.001;
constexpr double kMinBurst = 1;
constexpr double kMaxRate = 1e9;  // requests_per_second and burst
constexpr int64_t kMaxRecycleRssMb = int64_t{1} << 24;
constexpr int64_t kMinAddressSpaceMb = 16;
constexpr int64_t kMaxMegabytes = int64_t{1} << 24;  // address_space_mb, core_mb: 16 TiB
constexpr int64_t kMaxCpuSeconds = INT32_MAX;
constexpr int64_t kMinOpenFiles = 16;
constexpr int64_t kMaxOpenFiles = int64_t{1} << 20;
constexpr int64_t kMinProcesses = 16;
constexpr int64_t kMaxProcesses = int64_t{1} << 22;
constexpr int64_t kMaxBatchSize = int64_t{1} << 20;  // also bounds preferred_batch_sizes
constexpr int64_t kMaxQueueDelayUs = 60000000;       // 1 min
constexpr int kMebibyteShift = 20;

// ---- keys bound to a struct member ------------------------------------------
template <typename>
struct MemberTraits;
template <typename C, typename F>
struct MemberTraits<F C::*> {
  using Class = C;
  using Field = F;
};
template <auto M>
using ClassOf = typename MemberTraits<decltype(M)>::Class;
template <auto M>
using FieldOf = typename MemberTraits<decltype(M)>::Field;

template <auto M>
constexpr Key<ClassOf<M>> BoolKey(std::string_view name, std::string_view description) {
  return {.name = name,
          .kind = KeyKind::kBool,
          .set_bool = [](ClassOf<M>& t, bool v) { t.*M = v; },
          .show = [](const ClassOf<M>& t) { return std::string(t.*M ? "true" : "false"); },
          .description = description};
}

template <auto M>
constexpr Key<ClassOf<M>> IntKey(std::string_view name, int64_t min, int64_t max,
                                 std::string_view description) {
  return {.name = name,
          .kind = KeyKind::kInt,
          .min = min,
          .max = max,
          .set_int = [](ClassOf<M>& t, int64_t v) { t.*M = static_cast<FieldOf<M>>(v); },
          .show = [](const ClassOf<M>& t) { return std::to_string(t.*M); },
          .description = description};
}

template <auto M>
constexpr Key<ClassOf<M>> NumberKey(std::string_view name, double min, double max,
                                    std::string_view description) {
  return {.name = name,
          .kind = KeyKind::kNumber,
          .min_number = min,
          .max_number = max,
          .set_number = [](ClassOf<M>& t, double v) { t.*M = v; },
          .show = [](const ClassOf<M>& t) { return FormatConfigNumber(t.*M); },
          .description = description};
}

// A resource limit in the unit of the key (`shift` converts it to bytes).
uint64_t Scaled(uint64_t v, int shift) { return v == kUnlimitedValue ? v : v << shift; }
std::string ShowLimit(uint64_t v, int shift) {
  return v == ResourceLimits::kUnlimited ? "\"unlimited\"" : std::to_string(v >> shift);
}

// ---- tensor specs: entries of "inputs" and "outputs" --------------------------
constexpr Key<TensorSpec> kTensorKeys[] = {
    {.name = "name",
     .kind = KeyKind::kCustom,
     .required = true,
     .type_doc = "string, not empty",
     .parse =
         [](Checker& c, const json& j, const std::string& path, TensorSpec& t) {
           if (!c.String(j, path, &t.name)) return false;
           return !t.name.empty() || c.Fail(path, "must not be empty");
         },
     .description = "the tensor's name, unique among the model's inputs (or outputs)"},
    {.name = "datatype",
     .kind = KeyKind::kCustom,
     .required = true,
     .type_doc = "V2 datatype",
     .parse =
         [](Checker& c, const json& j, const std::string& path, TensorSpec& t) {
           std::string d;
           if (!c.String(j, path, &d)) return false;
           auto type = ParseDataType(d);
           if (!type) {
             return c.Fail(path,
                           "'" + d + "' is not a V2 datatype (BOOL, INT32, FP64, BYTES, ...)");
           }
           t.datatype = *type;
           return true;
         },
     .description = "BOOL, INT8..INT64, UINT8..UINT64, FP16, BF16, FP32, FP64 or BYTES"},
    {.name = "shape",
     .kind = KeyKind::kCustom,
     .required = true,
     .type_doc = "non-empty array of int ≥ -1",
     .parse =
         [](Checker& c, const json& j, const std::string& path, TensorSpec& t) {
           if (!j.is_array() || j.empty())
             return c.Fail(path, "must be a non-empty array of integers");
           for (const auto& d : j) {
             if (!d.is_number_integer() || d.get<int64_t>() < -1) {
               return c.Fail(path, "dimensions must be integers >= -1 (-1 means any size)");
             }
             t.shape.push_back(d.get<int64_t>());
           }
           return true;
         },
     .description = "dimensions; `-1` means any size in that dimension"},
};

bool ParseTensors(Checker& c, const json& j, const std::string& path,
                  std::vector<TensorSpec>* out) {
  if (!j.is_array()) return c.Fail(path, "must be an array of {name, datatype, shape}");
  std::set<std::string> seen;
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string at = path + "[" + std::to_string(i) + "]";
    TensorSpec spec;
    if (!ParseObject<TensorSpec>(c, j[i], at, kTensorKeys, spec,
                                 "must be an object with name, datatype, shape")) {
      return false;
    }
    if (!seen.insert(spec.name).second) {
      return c.Fail(at + ".name", "duplicate name '" + spec.name + "'");
    }
    out->push_back(std::move(spec));
  }
  return true;
}

// ---- circuit_breaker -------------------------------------------------------------
constexpr std::string_view kWindows[] = {"count", "time"};

constexpr Key<CircuitBreakerConfig> kBreakerKeys[] = {
    BoolKey<&CircuitBreakerConfig::enabled>("enabled", "`false`: the breaker never opens"),
    {.name = "window",
     .kind = KeyKind::kChoice,
     .choices = kWindows,
     .set_string =
         [](CircuitBreakerConfig& b, std::string w) {
           b.window = w == "count" ? CircuitBreakerConfig::Window::kCount
                                   : CircuitBreakerConfig::Window::kTime;
         },
     .show =
         [](const CircuitBreakerConfig& b) {
           return std::string(b.window == CircuitBreakerConfig::Window::kCount ? "\"count\""
                                                                               : "\"time\"");
         },
     .description = "`\"count\"`: the last `window_size` calls; `\"time\"`: the calls of the "
                    "last `window_size` seconds"},
    IntKey<&CircuitBreakerConfig::window_size>("window_size", 1, kMaxBreakerWindow,
                                               "calls (count window) or seconds (time window)"),
    IntKey<&CircuitBreakerConfig::minimum_calls>(
        "minimum_calls", 1, kMaxBreakerWindow,
        "calls the window must hold before the failure rate can open the breaker"),
    NumberKey<&CircuitBreakerConfig::failure_rate_threshold>(
        "failure_rate_threshold", kMinFailureRatePercent, kMaxFailureRatePercent,
        "percent of failed calls in the window at which the breaker opens"),
    {.name = "open_duration_ms",
     .kind = KeyKind::kInt,
     .min = 1,
     .max = kMaxTimeoutMs,
     .set_int = [](CircuitBreakerConfig& b,
                   int64_t v) { b.open_duration = std::chrono::milliseconds(v); },
     .show = [](const CircuitBreakerConfig& b) { return std::to_string(b.open_duration.count()); },
     .description = "how long the breaker stays open before it lets probe calls through"},
    IntKey<&CircuitBreakerConfig::half_open_calls>(
        "half_open_calls", 1, kMaxHalfOpenCalls,
        "probe calls let through when half-open: all succeed, it closes; one fails, it opens"),
};

// ---- rate_limit, recycle, dynamic_batching: fields of ModelConfig itself ---------
constexpr Key<ModelConfig> kRateLimitKeys[] = {
    {.name = "requests_per_second",
     .kind = KeyKind::kNumber,
     .min_number = kMinRequestsPerSecond,
     .max_number = kMaxRate,
     .required = true,
     .set_number = [](ModelConfig& m, double v) { m.rate_limit_rps = v; },
     .description = "tokens added per second"},
    {.name = "burst",
     .kind = KeyKind::kNumber,
     .min_number = kMinBurst,
     .max_number = kMaxRate,
     .default_doc = "`requests_per_second`, at least 1",
     .set_number = [](ModelConfig& m, double v) { m.rate_limit_burst = v; },
     .description = "the bucket's size: requests admitted at once after a quiet period"},
};

constexpr Key<ModelConfig> kRecycleKeys[] = {
    {.name = "max_requests",
     .kind = KeyKind::kInt,
     .min = 1,
     .max = INT64_MAX,
     .default_doc = "never",
     .set_int = [](ModelConfig& m, int64_t v) { m.recycle_max_requests = v; },
     .description = "replace a worker after it has served this many requests"},
    {.name = "max_rss_mb",
     .kind = KeyKind::kInt,
     .min = 1,
     .max = kMaxRecycleRssMb,
     .default_doc = "never",
     .set_int = [](ModelConfig& m, int64_t v) { m.recycle_max_rss_mb = v; },
     .description = "replace a worker whose resident memory exceeds this, after its request"},
};

constexpr Key<ModelConfig> kBatchingKeys[] = {
    {.name = "max_batch_size",
     .kind = KeyKind::kInt,
     .min = 1,
     .max = kMaxBatchSize,
     .required = true,
     .set_int = [](ModelConfig& m, int64_t v) { m.max_batch_size = static_cast<int>(v); },
     .description = "most rows (dim 0 summed over the requests) in one worker call"},
    IntKey<&ModelConfig::max_queue_delay_us>(
        "max_queue_delay_us", 0, kMaxQueueDelayUs,
        "how long a batch may wait for more requests before it goes"),
    {.name = "preferred_batch_sizes",
     .kind = KeyKind::kCustom,
     .type_doc = "array of int ≥ 1",
     .default_doc = "`[]`",
     .parse =
         [](Checker& c, const json& j, const std::string& path, ModelConfig& m) {
           if (!j.is_array()) return c.Fail(path, "must be an array of positive integers");
           for (const auto& e : j) {
             if (!e.is_number_integer() || e.get<int64_t>() < 1 ||
                 e.get<int64_t>() > kMaxBatchSize) {
               return c.Fail(path, "must be an array of positive integers");
             }
             m.preferred_batch_sizes.push_back(e.get<int>());
           }
           return true;
         },
     .description = "row counts at which a batch goes at once, without waiting"},
};

// ---- limits ----------------------------------------------------------------------
constexpr Key<ResourceLimits> kLimitKeys[] = {
    {.name = "address_space_mb",
     .kind = KeyKind::kIntOrUnlimited,
     .min = kMinAddressSpaceMb,
     .max = kMaxMegabytes,
     .set_uint = [](ResourceLimits& l,
                    uint64_t v) { l.address_space_bytes = Scaled(v, kMebibyteShift); },
     .show =
         [](const ResourceLimits& l) { return ShowLimit(l.address_space_bytes, kMebibyteShift); },
     .description = "RLIMIT_AS: allocations beyond it fail (`MemoryError`, R \"cannot "
                    "allocate\")"},
    {.name = "cpu_seconds",
     .kind = KeyKind::kIntOrUnlimited,
     .min = 1,
     .max = kMaxCpuSeconds,
     .set_uint = [](ResourceLimits& l, uint64_t v) { l.cpu_seconds = v; },
     .show = [](const ResourceLimits& l) { return ShowLimit(l.cpu_seconds, 0); },
     .description = "RLIMIT_CPU: workers are long-lived, so CPU time adds up over their life"},
    IntKey<&ResourceLimits::open_files>("open_files", kMinOpenFiles, kMaxOpenFiles,
                                        "RLIMIT_NOFILE"),
    {.name = "core_mb",
     .kind = KeyKind::kIntOrUnlimited,
     .min = 0,
     .max = kMaxMegabytes,
     .set_uint = [](ResourceLimits& l, uint64_t v) { l.core_bytes = Scaled(v, kMebibyteShift); },
     .show = [](const ResourceLimits& l) { return ShowLimit(l.core_bytes, kMebibyteShift); },
     .description = "RLIMIT_CORE: `0`, no core files"},
    {.name = "processes",
     .kind = KeyKind::kIntOrUnlimited,
     .min = kMinProcesses,
     .max = kMaxProcesses,
     .default_doc = "`1024` when workers run as the worker user, else inherited",
     .set_uint = [](ResourceLimits& l, uint64_t v) { l.processes = v; },
     .description = "RLIMIT_NPROC: counts every process and thread of that user, across all "
                    "workers"},
};
static_assert(kUnlimitedValue == ResourceLimits::kUnlimited);

// ---- the top level ---------------------------------------------------------------
constexpr std::string_view kBackends[] = {"r", "python"};

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
     .required = true,
     .missing = "is required and must not be empty",
     .type_doc = "array of `{name, datatype, shape}`",
     .parse =
         [](Checker& c, const json& j, const std::string& path, ModelConfig& m) {
           if (!ParseTensors(c, j, path, &m.inputs)) return false;
           return !m.inputs.empty() || c.Fail(path, "is required and must not be empty");
         },
     .description = "what requests must send (entries below)"},
    {.name = "outputs",
     .kind = KeyKind::kCustom,
     .type_doc = "array of `{name, datatype, shape}`",
     .default_doc = "all outputs as returned",
     .parse = [](Checker& c, const json& j, const std::string& path,
                 ModelConfig& m) { return ParseTensors(c, j, path, &m.outputs); },
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
     .default_doc = "`--rscript` / `--python`",
     .set_string = [](ModelConfig& m, std::string s) { m.interpreter = std::move(s); },
     .description = "interpreter for this model's workers"},
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
    {.name = "circuit_breaker",
     .kind = KeyKind::kObject,
     .type_doc = "object (keys below)",
     .default_doc = "on, defaults below",
     .parse =
         [](Checker& c, const json& j, const std::string& path, ModelConfig& m) {
           return ParseObject<CircuitBreakerConfig>(c, j, path, kBreakerKeys, m.circuit_breaker);
         },
     .description = "resilience4j-style breaker for this model"},
    {.name = "rate_limit",
     .kind = KeyKind::kObject,
     .type_doc = "object (keys below)",
     .default_doc = "off",
     .parse =
         [](Checker& c, const json& j, const std::string& path, ModelConfig& m) {
           if (!ParseObject<ModelConfig>(c, j, path, kRateLimitKeys, m)) return false;
           if (m.rate_limit_burst == 0) m.rate_limit_burst = std::max(kMinBurst, m.rate_limit_rps);
           return true;
         },
     .description = "token bucket; beyond it: 429 + `Retry-After`"},
    {.name = "recycle",
     .kind = KeyKind::kObject,
     .type_doc = "object (keys below)",
     .default_doc = "off",
     .parse = [](Checker& c, const json& j, const std::string& path,
                 ModelConfig& m) { return ParseObject<ModelConfig>(c, j, path, kRecycleKeys, m); },
     .description = "replace a worker after N requests or above an RSS"},
    {.name = "limits",
     .kind = KeyKind::kObject,
     .type_doc = "object (keys below)",
     .default_doc = "defaults below",
     .parse =
         [](Checker& c, const json& j, const std::string& path, ModelConfig& m) {
           return ParseObject<ResourceLimits>(c, j, path, kLimitKeys, m.limits);
         },
     .description = "resource limits of each worker"},
    {.name = "dynamic_batching",
     .kind = KeyKind::kObject,
     .type_doc = "object (keys below)",
     .default_doc = "off",
     .parse = [](Checker& c, const json& j, const std::string& path,
                 ModelConfig& m) { return ParseObject<ModelConfig>(c, j, path, kBatchingKeys, m); },
     .description = "concatenate concurrent requests along dim 0 (up to `max_batch_size` rows) "
                    "into one worker call and split the answers back; requests with other "
                    "inputs or inner dims go alone; every output must have the batch as its "
                    "dim 0"},
};

}  // namespace

std::span<const Key<ModelConfig>> ModelConfigKeys() { return kModelKeys; }

std::vector<TableReference> ModelConfigReference() {
  return {
      Describe<ModelConfig>("", "", kModelKeys),
      Describe<TensorSpec>("inputs[0]", "Keys of each `inputs` and `outputs` entry", kTensorKeys),
      Describe<CircuitBreakerConfig>("circuit_breaker", "`circuit_breaker` keys", kBreakerKeys),
      Describe<ModelConfig>("rate_limit", "`rate_limit` keys", kRateLimitKeys),
      Describe<ModelConfig>("recycle", "`recycle` keys", kRecycleKeys),
      Describe<ResourceLimits>("limits", "`limits` keys", kLimitKeys),
      Describe<ModelConfig>("dynamic_batching", "`dynamic_batching` keys", kBatchingKeys),
  };
}

}  // namespace modelgate
