#include "config/object_keys.h"

#include <set>

#include "config/config_bounds.h"
#include "config/member_keys.h"

namespace modelgate {

namespace {

using namespace config_limits;
using nlohmann::json;

// A limit in its key's unit (MiB: shift 20) to the ResourceLimits field
// (bytes), "unlimited" kept; ShowLimit is the reverse, for the README.
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
    BoolKey<&TensorSpec::optional>("optional",
                                   "inputs only: requests may omit it; the model then gets no "
                                   "such input (R `NULL`, no Python key)"),
};

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
        "how long a batch may wait for more requests before it goes; `0`: never wait, take what "
        "queued while the workers were busy (a lone request goes at once)"),
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

// ---- response_cache --------------------------------------------------------------
constexpr Key<ResponseCacheConfig> kResponseCacheKeys[] = {
    IntKey<&ResponseCacheConfig::max_entries>("max_entries", 1, kMaxCacheEntries,
                                              "most answers kept; the least recently used goes "
                                              "first"),
    IntKey<&ResponseCacheConfig::max_bytes>(
        "max_bytes", 1, kMaxCacheBytes,
        "most bytes kept (keys and outputs); an answer larger than this is not kept"),
    IntKey<&ResponseCacheConfig::ttl_ms>("ttl_ms", 0, kMaxTimeoutMs,
                                         "an answer older than this is a miss; `0`: never expires"),
};
static_assert(kUnlimitedValue == ResourceLimits::kUnlimited);
static_assert(AllWellFormed(kTensorKeys));
static_assert(AllWellFormed(kBreakerKeys));
static_assert(AllWellFormed(kRateLimitKeys));
static_assert(AllWellFormed(kRecycleKeys));
static_assert(AllWellFormed(kBatchingKeys));
static_assert(AllWellFormed(kLimitKeys));
static_assert(AllWellFormed(kResponseCacheKeys));

}  // namespace

std::span<const Key<TensorSpec>> TensorSpecKeys() { return kTensorKeys; }
std::span<const Key<CircuitBreakerConfig>> CircuitBreakerKeys() { return kBreakerKeys; }
std::span<const Key<ModelConfig>> RateLimitKeys() { return kRateLimitKeys; }
std::span<const Key<ModelConfig>> RecycleKeys() { return kRecycleKeys; }
std::span<const Key<ModelConfig>> BatchingKeys() { return kBatchingKeys; }
std::span<const Key<ResourceLimits>> ResourceLimitKeys() { return kLimitKeys; }
std::span<const Key<ResponseCacheConfig>> ResponseCacheKeys() { return kResponseCacheKeys; }

bool ParseTensors(Checker& c, const json& j, const std::string& path,
                  std::vector<TensorSpec>* out) {
  if (!j.is_array()) return c.Fail(path, "must be an array of {name, datatype, shape}");
  std::set<std::string> seen;
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string at = path + "[" + std::to_string(i) + "]";
    TensorSpec spec;
    if (!ParseObject<TensorSpec>(c, j[i], at, TensorSpecKeys(), spec,
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

}  // namespace modelgate
