#include "modelgate/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "modelgate/status_map.h"

namespace modelgate {

namespace {
// From 100 µs to 30 s: sub-millisecond Python calls to multi-second R jobs.
const prometheus::Histogram::BucketBoundaries kLatencyBuckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10, 30};
}  // namespace

struct Metrics::Families {
  prometheus::Family<prometheus::Counter>& requests;
  prometheus::Family<prometheus::Histogram>& request_duration;
};

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  families_ = std::make_unique<Families>(Families{
      prometheus::BuildCounter()
          .Name("modelgate_requests_total")
          .Help("Infer requests answered, by model, version, protocol and gRPC code name")
          .Register(*registry_),
      prometheus::BuildHistogram()
          .Name("modelgate_request_duration_seconds")
          .Help("Time from receiving an infer request to answering it")
          .Register(*registry_),
  });
}

Metrics::~Metrics() = default;

Status Metrics::Serve(const std::string& host, uint16_t port) {
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(host + ":" + std::to_string(port));
  } catch (const std::exception& e) {
    return Unavailable("metrics listener on " + host + ":" + std::to_string(port) + ": " + e.what());
  }
  exposer_->RegisterCollectable(registry_);
  return Status::Ok();
}

void Metrics::RecordRequest(const std::string& model, const std::string& version,
                            const std::string& protocol, StatusCode code, double seconds) {
  const std::string code_name(GrpcCodeName(code));
  families_->requests
      .Add({{"model", model}, {"version", version}, {"protocol", protocol}, {"code", code_name}})
      .Increment();
  families_->request_duration
      .Add({{"model", model}, {"protocol", protocol}}, kLatencyBuckets)
      .Observe(seconds);
}

prometheus::Registry& Metrics::registry() { return *registry_; }

}  // namespace modelgate
