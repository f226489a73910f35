#include "observability/metrics.h"

#include <dirent.h>
#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "common/status_map.h"

namespace modelgate {

namespace {

// From 100 µs to 30 s: sub-millisecond Python calls to multi-second R jobs.
const prometheus::Histogram::BucketBoundaries kLatencyBuckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1,    0.25,    0.5,    1,     2.5,    5,     10,   30,    60};
const prometheus::Histogram::BucketBoundaries kBatchBuckets = {1, 2, 4, 8, 16, 32, 64, 128, 256};

constexpr std::string_view kProtocols[2] = {"http", "grpc"};
constexpr std::string_view kWorkerStates[5] = {"starting", "ready", "busy", "dying", "dead"};

prometheus::ClientMetric Sample(double value, std::vector<prometheus::ClientMetric::Label> labels,
                                bool counter = false) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  if (counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  return m;
}

prometheus::MetricFamily Family(std::string name, std::string help, prometheus::MetricType type) {
  prometheus::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

// The daemon's own process: RSS, virtual memory, CPU, open fds, start time.
void AddProcessMetrics(std::vector<prometheus::MetricFamily>& out) {
  FILE* f = std::fopen("/proc/self/stat", "r");
  if (!f) return;
  char buf[1024];
  const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  const char* p = std::strrchr(buf, ')');
  if (!p) return;
  unsigned long long utime = 0, stime = 0, starttime = 0, vsize = 0;
  long long rss = 0;
  // Fields after ')': state(3) ... utime(14) stime(15) ... starttime(22) vsize(23) rss(24).
  if (std::sscanf(p + 2,
                  "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d "
                  "%llu %llu %lld",
                  &utime, &stime, &starttime, &vsize, &rss) != 5) {
    return;
  }
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  double boot = 0;
  if (FILE* s = std::fopen("/proc/stat", "r")) {
    char line[256];
    while (std::fgets(line, sizeof line, s)) {
      if (std::sscanf(line, "btime %lf", &boot) == 1) break;
    }
    std::fclose(s);
  }
  int fds = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (::readdir(d)) ++fds;
    ::closedir(d);
    fds -= 3;  // ".", ".." and the directory's own descriptor
  }
  using T = prometheus::MetricType;
  auto add = [&](const char* name, const char* help, T type, double v) {
    auto fam = Family(name, help, type);
    fam.metric.push_back(Sample(v, {}, type == T::Counter));
    out.push_back(std::move(fam));
  };
  add("process_cpu_seconds_total", "User and system CPU time of the daemon", T::Counter,
      (utime + stime) / ticks);
  add("process_resident_memory_bytes", "Resident memory of the daemon (workers excluded)", T::Gauge,
      static_cast<double>(rss * ::sysconf(_SC_PAGESIZE)));
  add("process_virtual_memory_bytes", "Virtual memory of the daemon", T::Gauge,
      static_cast<double>(vsize));
  add("process_open_fds", "Open file descriptors of the daemon", T::Gauge, fds);
  add("process_start_time_seconds", "Start time of the daemon since the epoch", T::Gauge,
      boot + starttime / ticks);
}

// Gauges that describe the pools' state at scrape time.
void AddPoolMetrics(const std::vector<PoolSnapshot>& pools,
                    std::vector<prometheus::MetricFamily>& out) {
  using T = prometheus::MetricType;
  auto queue = Family("modelgate_queue_depth", "Requests waiting for a worker", T::Gauge);
  auto inflight = Family("modelgate_inflight_requests",
                         "Requests accepted and not yet answered (queued + running)", T::Gauge);
  auto workers = Family("modelgate_workers", "Worker processes by state", T::Gauge);
  auto breaker = Family("modelgate_circuit_breaker_state",
                        "Circuit breaker: 0 closed, 1 open, 2 half-open", T::Gauge);
  auto memory = Family("modelgate_worker_memory_bytes",
                       "Resident memory summed over the model version's workers", T::Gauge);
  auto pids = Family("modelgate_worker_pid",
                     "Pid of the live worker in each slot (0: none); slot i is the i-th live "
                     "worker in spawn order",
                     T::Gauge);
  auto state = Family("modelgate_model_state",
                      "1 for the lifecycle state a model version is in: ready, loading, "
                      "unavailable, draining, unloaded",
                      T::Gauge);
  auto info = Family("modelgate_model_info",
                     "1 for each content fingerprint a model version's live workers run", T::Gauge);
  for (const auto& s : pools) {
    std::vector<prometheus::ClientMetric::Label> l = {{"model", s.model}, {"version", s.version}};
    for (ModelState m : kModelStates) {
      // The index's state names in Prometheus' lower case.
      std::string name(ModelStateName(m));
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      auto sl = l;
      sl.push_back({"state", std::move(name)});
      state.metric.push_back(Sample(s.state == m ? 1 : 0, sl));
    }
    for (const auto& fingerprint : s.fingerprints) {
      auto il = l;
      il.push_back({"fingerprint", fingerprint});
      info.metric.push_back(Sample(1, il));
    }
    queue.metric.push_back(Sample(static_cast<double>(s.queue_depth), l));
    inflight.metric.push_back(Sample(static_cast<double>(s.inflight), l));
    breaker.metric.push_back(Sample(s.breaker_state, l));
    memory.metric.push_back(Sample(static_cast<double>(s.worker_memory_bytes), l));
    // One series per configured slot, so a slot without a live worker reads 0
    // instead of vanishing; more live workers than slots (a replacement
    // starting beside one not yet dying) get slots past the configured ones.
    const size_t slots = std::max(static_cast<size_t>(s.worker_slots), s.worker_pids.size());
    for (size_t i = 0; i < slots; ++i) {
      auto pl = l;
      pl.push_back({"slot", std::to_string(i)});
      pids.metric.push_back(Sample(i < s.worker_pids.size() ? s.worker_pids[i] : 0, pl));
    }
    for (size_t i = 0; i < s.workers.size(); ++i) {
      auto wl = l;
      wl.push_back({"state", std::string(kWorkerStates[i])});
      workers.metric.push_back(Sample(s.workers[i], wl));
    }
  }
  for (auto* f : {&queue, &inflight, &workers, &breaker, &memory, &pids, &state, &info}) {
    out.push_back(std::move(*f));
  }
}

// Input drift of the versions that monitor it. Label values come from the
// reference file (bounded there: kMaxDriftEntries x kMaxDriftCategories).
void AddDriftMetrics(const std::vector<PoolSnapshot>& pools,
                     std::vector<prometheus::MetricFamily>& out) {
  using T = prometheus::MetricType;
  auto psi = Family("modelgate_input_drift_psi",
                    "Population stability index of the live window against the reference "
                    "(empty buckets count as 1e-4); absent while the window is empty",
                    T::Gauge);
  auto values = Family("modelgate_input_drift_window_values",
                       "Live values in the input's drift window", T::Gauge);
  auto live = Family("modelgate_input_drift_bucket_ratio",
                     "Share of the window's values in each reference bucket (numeric: bucket "
                     "index; BYTES: category or _other)",
                     T::Gauge);
  auto reference = Family("modelgate_input_drift_reference_ratio",
                          "Share of the training data in each reference bucket", T::Gauge);
  for (const auto& s : pools) {
    for (const DriftSeries& d : s.drift) {
      std::vector<prometheus::ClientMetric::Label> l = {
          {"model", s.model}, {"version", s.version}, {"input", d.input}};
      if (d.psi) psi.metric.push_back(Sample(*d.psi, l));
      values.metric.push_back(Sample(static_cast<double>(d.values), l));
      for (const auto& b : d.buckets) {
        auto bl = l;
        bl.push_back({"bucket", b.label});
        live.metric.push_back(Sample(b.live, bl));
        reference.metric.push_back(Sample(b.reference, bl));
      }
    }
  }
  if (values.metric.empty()) return;  // no model monitors drift: no families
  for (auto* f : {&psi, &values, &live, &reference}) out.push_back(std::move(*f));
}

}  // namespace

struct Metrics::Families {
  prometheus::Family<prometheus::Counter>& requests;
  prometheus::Family<prometheus::Histogram>& request_duration;
  prometheus::Family<prometheus::Histogram>& queue_duration;
  prometheus::Family<prometheus::Histogram>& compute_duration;
  prometheus::Family<prometheus::Histogram>& batch_size;
  prometheus::Family<prometheus::Counter>& restarts;
  prometheus::Family<prometheus::Counter>& interrupts;
  prometheus::Family<prometheus::Counter>& rejected;
  prometheus::Family<prometheus::Counter>& auth_failures;
  prometheus::Family<prometheus::Counter>& model_loads;
  std::array<prometheus::Family<prometheus::Counter>*, 3> cache;  // hits, misses, evictions
};

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  using namespace prometheus;
  families_ = std::make_unique<Families>(Families{
      BuildCounter()
          .Name("modelgate_requests_total")
          .Help("Infer requests answered, by model, version, protocol and gRPC code name")
          .Register(*registry_),
      BuildHistogram()
          .Name("modelgate_request_duration_seconds")
          .Help("Time from receiving an infer request to answering it")
          .Register(*registry_),
      BuildHistogram()
          .Name("modelgate_queue_duration_seconds")
          .Help("Time a request waited in its model's queue before a worker took it")
          .Register(*registry_),
      BuildHistogram()
          .Name("modelgate_compute_duration_seconds")
          .Help("Time a worker spent on a request (frame out to answer in)")
          .Register(*registry_),
      BuildHistogram()
          .Name("modelgate_batch_size")
          .Help("Requests per worker call")
          .Register(*registry_),
      BuildCounter()
          .Name("modelgate_worker_restarts_total")
          .Help("Workers replaced, by reason: crash, timeout, recycle, malformed, start_failed")
          .Register(*registry_),
      BuildCounter()
          .Name("modelgate_worker_interrupts_total")
          .Help("Running calls interrupted at their deadline (native host); the worker is "
                "replaced only when it does not return within interrupt_grace_ms")
          .Register(*registry_),
      BuildCounter()
          .Name("modelgate_rejected_requests_total")
          .Help("Requests refused by the gateway itself, by reason")
          .Register(*registry_),
      BuildCounter()
          .Name("modelgate_auth_failures_total")
          .Help("Requests denied by bearer-token authentication, by reason: missing_token, "
                "invalid_token, insufficient_scope")
          .Register(*registry_),
      BuildCounter()
          .Name("modelgate_model_loads_total")
          .Help("Model versions loaded by a load request or a repository poll, by result: "
                "success, failure")
          .Register(*registry_),
      {&BuildCounter()
            .Name("modelgate_cache_hits_total")
            .Help("Requests answered from the model's response cache, without a worker")
            .Register(*registry_),
       &BuildCounter()
            .Name("modelgate_cache_misses_total")
            .Help("Requests of a model with a response cache that the cache could not answer")
            .Register(*registry_),
       &BuildCounter()
            .Name("modelgate_cache_evictions_total")
            .Help("Response-cache entries removed to stay within max_entries / max_bytes, or "
                  "expired")
            .Register(*registry_)},
  });
  for (size_t i = 0; i < kAuthFailureReasons.size(); ++i) {
    auth_failures_[i] =
        &families_->auth_failures.Add({{"reason", std::string(kAuthFailureReasons[i])}});
  }
}

void Metrics::RecordModelLoad(const std::string& model, const std::string& version, bool ok) {
  families_->model_loads
      .Add({{"model", model}, {"version", version}, {"result", ok ? "success" : "failure"}})
      .Increment();
}

void Metrics::RecordAuthFailure(AuthResult result) {
  const size_t i = static_cast<size_t>(result);
  if (i >= 1 && i <= auth_failures_.size()) auth_failures_[i - 1]->Increment();
}

Metrics::~Metrics() = default;

std::string Metrics::Serialize(const std::vector<PoolSnapshot>& pools) const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  AddProcessMetrics(families);
  AddPoolMetrics(pools, families);
  AddDriftMetrics(pools, families);
  return prometheus::TextSerializer().Serialize(families);
}

ModelMetrics& Metrics::ForModel(const std::string& model, const std::string& version) {
  MutexLock lock(mu_);
  auto& slot = models_[{model, version}];
  if (slot) return *slot;
  slot = std::make_unique<ModelMetrics>();
  ModelMetrics& m = *slot;
  const prometheus::Labels mv = {{"model", model}, {"version", version}};
  for (size_t p = 0; p < 2; ++p) {
    for (size_t c = 0; c < kNumStatusCodes; ++c) {
      auto labels = mv;
      labels["protocol"] = std::string(kProtocols[p]);
      labels["code"] = std::string(GrpcCodeName(static_cast<StatusCode>(c)));
      m.requests_[p][c] = &families_->requests.Add(labels);
    }
    auto labels = mv;
    labels["protocol"] = std::string(kProtocols[p]);
    m.request_duration_[p] = &families_->request_duration.Add(labels, kLatencyBuckets);
  }
  m.queue_duration_ = &families_->queue_duration.Add(mv, kLatencyBuckets);
  m.compute_duration_ = &families_->compute_duration.Add(mv, kLatencyBuckets);
  m.batch_size_ = &families_->batch_size.Add(mv, kBatchBuckets);
  for (size_t i = 0; i < kRestartCauses.size(); ++i) {
    auto labels = mv;
    labels["reason"] = std::string(DeathCauseName(kRestartCauses[i]));
    m.restarts_[i] = &families_->restarts.Add(labels);
  }
  m.interrupts_ = &families_->interrupts.Add(mv);
  for (size_t i = 0; i < kRejectReasonCount; ++i) {
    auto labels = mv;
    labels["reason"] = std::string(RejectReasonLabel(static_cast<RejectReason>(i)));
    m.rejected_[i] = &families_->rejected.Add(labels);
  }
  return m;
}

void Metrics::EnableCache(const std::string& model, const std::string& version) {
  ModelMetrics& m = ForModel(model, version);
  MutexLock lock(mu_);
  for (size_t i = 0; i < m.cache_.size(); ++i) {
    if (m.cache_[i].load() == nullptr) {
      m.cache_[i].store(&families_->cache[i]->Add({{"model", model}, {"version", version}}));
    }
  }
}

namespace {

void Bump(const std::atomic<prometheus::Counter*>& counter, uint64_t n) {
  if (prometheus::Counter* c = counter.load(std::memory_order_acquire)) {
    c->Increment(static_cast<double>(n));
  }
}

}  // namespace

void ModelMetrics::RecordCacheHit() { Bump(cache_[0], 1); }
void ModelMetrics::RecordCacheMiss() { Bump(cache_[1], 1); }
void ModelMetrics::RecordCacheEvictions(uint64_t n) {
  if (n > 0) Bump(cache_[2], n);
}

namespace {

uint64_t Nanoseconds(double seconds) {
  return seconds > 0 ? static_cast<uint64_t>(std::llround(seconds * 1e9)) : 0;
}

DurationStat HistogramStat(const prometheus::Histogram& h) {
  const auto m = h.Collect().histogram;
  return {m.sample_count, Nanoseconds(m.sample_sum)};
}

}  // namespace

void ModelMetrics::RecordRequest(Protocol protocol, StatusCode code, double seconds) {
  const size_t p = static_cast<size_t>(protocol);
  requests_[p][static_cast<size_t>(code)]->Increment();
  request_duration_[p]->Observe(seconds);
  (code == StatusCode::kOk ? success_ns_ : fail_ns_)
      .fetch_add(Nanoseconds(seconds), std::memory_order_relaxed);
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  last_request_ms_.store(static_cast<uint64_t>(now.count()), std::memory_order_relaxed);
}

ModelVersionStats ModelMetrics::Statistics() const {
  ModelVersionStats s;
  for (const auto& by_code : requests_) {
    for (size_t c = 0; c < by_code.size(); ++c) {
      const auto n = static_cast<uint64_t>(by_code[c]->Value());
      (c == static_cast<size_t>(StatusCode::kOk) ? s.success.count : s.fail.count) += n;
    }
  }
  s.success.ns = success_ns_.load(std::memory_order_relaxed);
  s.fail.ns = fail_ns_.load(std::memory_order_relaxed);
  s.last_inference_ms = last_request_ms_.load(std::memory_order_relaxed);
  s.inference_count = s.success.count;
  s.queue = HistogramStat(*queue_duration_);
  s.compute_infer = HistogramStat(*compute_duration_);
  s.execution_count = HistogramStat(*batch_size_).count;
  MutexLock lock(batches_mu_);
  for (const auto& [size, stat] : batches_) s.batches.push_back({size, stat});
  return s;
}

void ModelMetrics::RecordExecution(size_t batch, double compute_seconds) {
  MutexLock lock(batches_mu_);
  DurationStat& d = batches_[batch];
  ++d.count;
  d.ns += Nanoseconds(compute_seconds);
}

void ModelMetrics::RecordQueueAndCompute(double queue_seconds, double compute_seconds) {
  queue_duration_->Observe(queue_seconds);
  compute_duration_->Observe(compute_seconds);
}

void ModelMetrics::RecordBatch(size_t requests) {
  batch_size_->Observe(static_cast<double>(requests));
}

void ModelMetrics::RecordRestart(DeathCause cause) {
  for (size_t i = 0; i < kRestartCauses.size(); ++i) {
    if (kRestartCauses[i] == cause) restarts_[i]->Increment();
  }
}

void ModelMetrics::RecordInterrupt() { interrupts_->Increment(); }

void ModelMetrics::RecordRejected(RejectReason reason) {
  rejected_[static_cast<size_t>(reason)]->Increment();
}

}  // namespace modelgate
