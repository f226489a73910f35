#include "support/worker_harness.h"

#include <cstring>

namespace modelgate::testing {

std::shared_ptr<ProcessWorker> WorkerHarness::Start(Backend backend, const std::string& dir,
                                                    bool dataframe) {
  WorkerCommandOptions c;
  c.backend = backend;
  c.version_dir = dir;
  c.dataframe = dataframe;
  WorkerOptions o;
  o.model = dir;
  o.version = "1";
  o.spawn = WorkerCommand(TestRuntime(), c);
  auto w = std::make_shared<ProcessWorker>(io, reaper, time, o, this);
  const int ready_before = ready_events, dead_before = dead_events;
  w->Start();
  RunUntil(
      io, [&] { return ready_events > ready_before || dead_events > dead_before; },
      std::chrono::seconds(60));
  return w;
}

StatusOr<std::vector<Tensor>> WorkerHarness::Infer(ProcessWorker& w, std::vector<Tensor> inputs,
                                                   const std::string& request_id,
                                                   const Parameters& parameters) {
  std::optional<StatusOr<std::vector<Tensor>>> got;
  w.Infer(std::move(inputs), parameters, request_id,
          [&](StatusOr<std::vector<Tensor>> r, CallOutcome) { got.emplace(std::move(r)); });
  RunUntil(
      io, [&] { return got.has_value(); }, std::chrono::seconds(60));
  if (!got) return Internal("test harness: no answer within 60 s");
  return std::move(*got);
}

Tensor Fp64(const std::string& name, std::vector<int64_t> shape, const std::vector<double>& v) {
  Tensor t;
  t.name = name;
  t.datatype = DataType::kFp64;
  t.shape = std::move(shape);
  t.raw.assign(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(double));
  return t;
}

std::vector<double> AsDoubles(const Tensor& t) {
  std::vector<double> v(t.raw.size() / 8);
  std::memcpy(v.data(), t.raw.data(), v.size() * 8);
  return v;
}

}  // namespace modelgate::testing
