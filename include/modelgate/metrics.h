// Metrics: every Prometheus series the daemon exports, defined once.
// Served by prometheus-cpp's exposer on --metrics-port at /metrics.
//
// Request code label: the gRPC code name (OK, INVALID_ARGUMENT, NOT_FOUND,
// RESOURCE_EXHAUSTED, UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL, ...) for both
// protocols, from status_map.h, so one query covers REST and gRPC.
// Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "modelgate/status.h"

namespace prometheus {
class Registry;
class Exposer;
}  // namespace prometheus

namespace modelgate {

class Metrics {
 public:
  Metrics();
  ~Metrics();

  // Starts the exposer on host:port.
  Status Serve(const std::string& host, uint16_t port);

  // One finished infer request, counted exactly once.
  void RecordRequest(const std::string& model, const std::string& version,
                     const std::string& protocol, StatusCode code, double seconds);

  prometheus::Registry& registry();

 private:
  struct Families;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Families> families_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace modelgate
