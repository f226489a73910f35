// ModelConfig: the schema of models/<name>/config.json, defined once here and
// documented in the README. Parsing rejects unknown keys and bad values with
// the file, the key path and the reason.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "modelgate/backend.h"
#include "modelgate/circuit_breaker_config.h"
#include "modelgate/resource_limits.h"
#include "modelgate/status.h"
#include "modelgate/tensor.h"

namespace modelgate {

struct TensorSpec {
  std::string name;
  DataType datatype = DataType::kFp64;
  std::vector<int64_t> shape;  // -1: any size in that dimension
  // Inputs only: a request may omit it, and the model then sees no such
  // input (R NULL, no Python key, no data-frame column).
  bool optional = false;
  // BYTES inputs only: the values a request may send, in declared order
  // (an R factor's levels, a pandas category's categories, from the model's
  // code); empty: any value. Checked before a request is queued.
  std::vector<std::string> levels = {};
};

// The inputs and outputs of a model version, as config.json or the model's
// code declares them (a worker's Hello), or as the daemon serves them once
// both were merged (backend/process/hello_signature.h).
struct ModelSignature {
  std::vector<TensorSpec> inputs;   // empty: none declared
  std::vector<TensorSpec> outputs;  // empty: whatever the model returns
  bool dataframe = false;           // inputs reach the model as a data frame
  std::string source;               // where it was declared, for messages
};

// Which version directories get workers (Triton's version_policy).
struct VersionPolicy {
  enum class Kind { kLatest, kAll, kSpecific };
  Kind kind = Kind::kLatest;
  int64_t num_versions = 1;       // kLatest: the highest N versions
  std::vector<int64_t> versions;  // kSpecific: these, ascending
};

// One warm-up request ("warmup": [{"inputs": [V2 JSON inputs]}]): every new
// worker answers each of them before it counts as ready.
struct WarmupRequest {
  std::vector<Tensor> inputs;
};

// One example ("examples": [{"inputs": [...], "outputs": [...], "tolerance"}]):
// a request and the outputs it must give. The daemon never runs them;
// `modelgate check` does (src/check/example_compare.h compares).
struct ExampleRequest {
  static constexpr double kDefaultTolerance = 1e-6;
  std::vector<Tensor> inputs;
  // Expected outputs by name: BOOL, INT64, FP64 or BYTES by what the JSON
  // data held; the shape is the JSON nesting ([n] for a flat list).
  std::vector<Tensor> outputs;
  // Floats: |got - expected| <= tolerance * (1 + |expected|). Others exact.
  double tolerance = kDefaultTolerance;
};

// Input drift monitoring ("drift" key; off while `reference` is empty).
struct DriftConfig {
  std::string reference;  // file in the version directory (drift_reference.h)
  int64_t window = 1000;  // live values kept per monitored input
};

// Answers of a deterministic model kept per served version ("response_cache":
// opt-in). Keyed on the exact inputs, parameters and requested outputs; a
// hit never reaches a worker. A reload builds a new version, so a new cache.
struct ResponseCacheConfig {
  bool enabled = false;
  int64_t max_entries = 1024;
  int64_t max_bytes = int64_t{64} << 20;  // keys and outputs together
  int64_t ttl_ms = 0;                     // 0: entries never expire
};

struct ModelConfig {
  std::string name;         // the model directory's name
  std::string source_file;  // path of the config file, for messages
  Backend backend = Backend::kPython;
  std::string interpreter;  // a worker host of its own; empty: the daemon's --worker-host
  bool dataframe = false;   // 1-D inputs become columns of a data.frame / DataFrame
  int workers = 1;
  int max_queue_size = 64;
  bool required = true;  // readiness of the server waits for this model
  int64_t startup_timeout_ms = 60000;
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;  // empty: whatever the model returns
  std::map<std::string, std::string> env;

  // Deadlines: a client's own (gRPC deadline, V2 "timeout" parameter) is
  // capped at max_timeout_ms; without one, default_timeout_ms applies.
  // 0 disables the default / the cap.
  int64_t default_timeout_ms = 60000;
  int64_t max_timeout_ms = 600000;
  // After a running request's deadline (answered 504 at once), how long its
  // worker may take to return by itself before it is killed and replaced.
  int64_t deadline_kill_grace_ms = 1000;
  // The same wait for a worker that can be interrupted (the native host):
  // its call is interrupted at the deadline, and it is killed only if its
  // interpreter has not returned this long after (native code that never
  // checks for interrupts).
  int64_t interrupt_grace_ms = 200;
  // Extra directories for the native host: sys.path entries (backend python)
  // and R library paths (backend r). Absolute once the repository scan has
  // resolved them against the model's directory and checked they exist.
  std::vector<std::string> python_path;
  std::vector<std::string> r_libs;
  CircuitBreakerConfig circuit_breaker;
  double rate_limit_rps = 0;  // 0: no rate limit
  double rate_limit_burst = 0;
  int64_t recycle_max_requests = 0;  // 0: never recycle by count
  int64_t recycle_max_rss_mb = 0;    // 0: never recycle by memory
  ResourceLimits limits;
  // Dynamic batching (off when max_batch_size is 0): concurrent requests are
  // concatenated along dim 0 up to max_batch_size rows; a batch waits at most
  // max_queue_delay_us for more, and goes at once on a preferred size.
  int max_batch_size = 0;
  int64_t max_queue_delay_us = 0;
  std::vector<int> preferred_batch_sizes;

  // Model level only (config.json of the model, never of a version; not
  // part of a version's fingerprint, so changing them restarts no worker).
  VersionPolicy version_policy;
  // Unversioned requests are split between served versions by these
  // weights (version -> weight). Empty: the highest served version takes all.
  std::map<int64_t, int64_t> traffic;

  std::vector<WarmupRequest> warmup;
  std::vector<ExampleRequest> examples;
  DriftConfig drift;
  ResponseCacheConfig response_cache;
};

// Parses config JSON for model `name`; `file` names the source in errors.
StatusOr<ModelConfig> ParseModelConfig(std::string_view json_text, const std::string& file,
                                       const std::string& name);

std::string_view BackendName(Backend backend);

}  // namespace modelgate
