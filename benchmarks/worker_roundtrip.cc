// Round trip of a 1-row predict through the C++ process layer to a real R and
// a real Python worker, beside the model's own predict time measured inside
// the interpreter in the same run. Prints one table; asserts nothing.
//
//   worker_roundtrip [iterations]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>

#include "spdlog/spdlog.h"
#include "support/worker_harness.h"

using namespace modelgate;
using namespace modelgate::testing;
using BenchClock = std::chrono::steady_clock;  // modelgate::TimeSource is the injected one

namespace {

struct Stats {
  double p50_us, p99_us, mean_us;
};

Stats Summarize(std::vector<double> us) {
  std::sort(us.begin(), us.end());
  double sum = 0;
  for (double u : us) sum += u;
  return {us[us.size() / 2], us[std::min(us.size() - 1, us.size() * 99 / 100)], sum / us.size()};
}

// Mean microseconds per predict, timed inside the interpreter itself.
double InInterpreterUs(const std::string& command) {
  std::istringstream in(RunCommand(command));
  double us = -1;
  in >> us;
  return us;
}

Stats Measure(WorkerHarness& h, ProcessWorker& w, const std::function<std::vector<Tensor>()>& make,
              int n) {
  for (int i = 0; i < 50; ++i) (void)h.Infer(w, make());  // warm-up
  std::vector<double> us;
  us.reserve(n);
  for (int i = 0; i < n; ++i) {
    auto in = make();
    const auto t0 = BenchClock::now();
    auto out = h.Infer(w, std::move(in));
    us.push_back(std::chrono::duration<double, std::micro>(BenchClock::now() - t0).count());
    if (!out.ok()) {
      std::fprintf(stderr, "round trip failed: %s\n", out.status().ToString().c_str());
      std::exit(1);
    }
  }
  return Summarize(us);
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 2000;
  spdlog::set_level(spdlog::level::warn);  // keep the table readable
  WorkerHarness h;
  auto r = h.Start(Backend::kR, ExampleModelDir("mtcars_am"), true);
  auto py = h.Start(Backend::kPython, ExampleModelDir("iris_species"));
  if (r->state() != WorkerState::kReady || py->state() != WorkerState::kReady) {
    std::fprintf(stderr, "workers did not start: %s\n", h.last_death.message().c_str());
    return 1;
  }
  const Stats r_rt = Measure(
      h, *r,
      [] {
        std::vector<Tensor> in;
        in.push_back(Fp64("wt", {1}, {2.62}));
        in.push_back(Fp64("hp", {1}, {110}));
        return in;
      },
      n);
  const Stats py_rt = Measure(
      h, *py,
      [] {
        std::vector<Tensor> in;
        in.push_back(Fp64("features", {1, 4}, {5.1, 3.5, 1.4, 0.2}));
        return in;
      },
      n);
  const double r_own = InInterpreterUs(
      "Rscript -e 'fit <- readRDS(\"" + ExampleModelDir("mtcars_am") +
      "/model.rds\"); d <- data.frame(wt = 2.62, hp = 110); for (i in 1:200) predict(fit, newdata "
      "= d, "
      "type = \"response\"); n <- 2000; t <- system.time(for (i in 1:n) predict(fit, newdata = d, "
      "type = \"response\"))[[\"elapsed\"]]; cat(t / n * 1e6)'");
  const double py_own = InInterpreterUs(
      TestPython() + " -c 'import pickle, time, numpy as np\nm = pickle.load(open(\"" +
      ExampleModelDir("iris_species") +
      "/model.pkl\", \"rb\")); x = np.array([[5.1, 3.5, 1.4, 0.2]])\n"
      "for _ in range(200): m.predict(x); m.predict_proba(x)\n"
      "n = 2000; t = time.perf_counter()\nfor _ in range(n): m.predict(x); m.predict_proba(x)\n"
      "print((time.perf_counter() - t) / n * 1e6)'");
  std::printf("1-row predict, %d round trips each, C++ process layer -> worker -> C++\n\n", n);
  std::printf("%-26s %10s %10s %10s %16s %10s\n", "model", "rt p50 us", "rt p99 us", "rt mean",
              "own predict us", "overhead");
  std::printf("%-26s %10.0f %10.0f %10.0f %16.0f %9.0fus\n", "mtcars_am (R glm)", r_rt.p50_us,
              r_rt.p99_us, r_rt.mean_us, r_own, r_rt.p50_us - r_own);
  std::printf("%-26s %10.0f %10.0f %10.0f %16.0f %9.0fus\n", "iris_species (sklearn)", py_rt.p50_us,
              py_rt.p99_us, py_rt.mean_us, py_own, py_rt.p50_us - py_own);
  std::printf(
      "\noverhead = round-trip p50 - the model's own predict time (framing, protobuf, "
      "pipes, tensor decode/encode in the runtime)\n");
  r->Stop(std::chrono::seconds(2), DeathCause::kStopped);
  py->Stop(std::chrono::seconds(2), DeathCause::kStopped);
  RunUntil(
      h.io, [&] { return h.dead_events == 2; }, std::chrono::seconds(10));
  return 0;
}
