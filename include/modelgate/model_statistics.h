// ModelVersionStats: the cumulative counts of one model version that Triton's
// statistics extension reports (ModelStatistics, GET /v2/models/.../stats).
// They are read from the version's Prometheus series (observability/
// metrics.h), never kept a second time, so /metrics and the statistics agree.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace modelgate {

// How often something happened and how long it took in total.
struct DurationStat {
  uint64_t count = 0;
  uint64_t ns = 0;
};

struct ModelVersionStats {
  std::string name;
  int64_t version = 0;
  uint64_t last_inference_ms = 0;  // since the epoch; 0: no request answered yet
  // Infer requests answered OK (one per request, whatever its rows).
  uint64_t inference_count = 0;
  // Worker calls: a dynamic batch of several requests is one execution.
  uint64_t execution_count = 0;
  DurationStat success;        // answered OK: arrival to answer
  DurationStat fail;           // answered with an error: arrival to answer
  DurationStat queue;          // waiting in the model's queue for a worker
  DurationStat compute_infer;  // frame out to the worker's answer in
  // Worker calls that answered, by how many requests they served (ascending).
  struct Batch {
    uint64_t batch_size = 0;
    DurationStat compute_infer;
  };
  std::vector<Batch> batches;
};

}  // namespace modelgate
