// ResponseCache: the answers of one served model version, for models whose
// config opts in ("response_cache"). An LRU bounded by entry count and by
// bytes (keys plus outputs), with an optional time to live. The key is the
// exact request content the answer depends on: inputs (names, datatypes,
// shapes, bytes), parameters and the requested outputs, encoded without
// ambiguity (every field length-prefixed), so equal keys mean equal requests
// and a hash collision cannot return another request's answer.
//
// Thread-safe: looked up by front-end threads, filled on the io thread.
#pragma once

#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/mutex.h"
#include "modelgate/inference.h"
#include "modelgate/model_config.h"
#include "modelgate/time_source.h"
#include "observability/metrics.h"

namespace modelgate {

class ResponseCache {
 public:
  struct Counts {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t evictions = 0;  // pushed out by a bound or expired
    size_t entries = 0;
    size_t bytes = 0;
  };

  // `metrics` (may be null) gets every hit, miss and eviction.
  ResponseCache(const ResponseCacheConfig& config, ModelMetrics* metrics)
      : config_(config), metrics_(metrics) {}

  // The key of a request, or nothing when the request cannot be cached
  // (larger than max_bytes on its own).
  std::optional<std::string> KeyOf(const InferRequest& request) const;

  // The cached outputs for `key` as of `now`, counted as a hit or a miss. On
  // a miss, `*generation` (if given) is the cache's generation, to pass to
  // Insert with the answer.
  std::optional<std::vector<Tensor>> Lookup(const std::string& key, SteadyTime now,
                                            uint64_t* generation = nullptr) EXCLUDES(mu_);
  // Keeps `outputs` under `key`, evicting least recently used entries to stay
  // within both bounds; an answer that alone exceeds max_bytes is not kept,
  // nor one whose miss came before the last Clear() (`generation`).
  void Insert(std::string key, const std::vector<Tensor>& outputs, SteadyTime now,
              uint64_t generation = 0) EXCLUDES(mu_);

  // Drops every entry (a reload), and every answer still being computed for
  // an earlier miss; the counts stay.
  void Clear() EXCLUDES(mu_);

  Counts counts() const EXCLUDES(mu_);

 private:
  struct Entry {
    std::string key;
    std::vector<Tensor> outputs;
    size_t bytes = 0;
    SteadyTime stored;
  };
  using Lru = std::list<Entry>;  // most recently used first

  void EraseLocked(Lru::iterator it) REQUIRES(mu_);

  const ResponseCacheConfig config_;
  ModelMetrics* const metrics_;
  mutable Mutex mu_;
  Lru lru_ GUARDED_BY(mu_);
  std::unordered_map<std::string_view, Lru::iterator> index_ GUARDED_BY(mu_);
  size_t bytes_ GUARDED_BY(mu_) = 0;
  uint64_t generation_ GUARDED_BY(mu_) = 0;  // bumped by Clear()
  Counts counts_ GUARDED_BY(mu_);
};

}  // namespace modelgate
