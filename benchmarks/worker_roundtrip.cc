// Round trip of a 1-row predict through the C++ process layer to real R and
// Python workers (the examples mtcars_am and iris_species, and the trivial
// echo models of benchmarks/models), beside the model's own predict time
// measured inside the interpreter and a bare pipe echo's round trip
// (pipe_echo.h), all in the same run. The hop's own cost is
//   round trip p50 - own predict - pipe echo p50,
// and, beside it, against an echo that spins for the model's own predict
// time before answering (what waking a CPU idle that long costs on this
// machine, which a bare echo does not pay):
//   round trip p50 - busy echo p50.
// Runs against the build's modelgate-worker (or the host named by
// MODELGATE_WORKER_HOST). Prints a table and one
// machine-readable "hop ..." line per model (read by compare.py); asserts
// nothing.
//
//   worker_roundtrip [iterations]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "pipe_echo.h"
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

struct Case {
  const char* label;  // the table's row
  const char* model;  // the "hop" line's key
  Backend backend;
  std::string dir;
  bool dataframe;
  std::vector<Tensor> inputs;
  // Statements giving `inputs` as the runtime passes them to the model, in
  // the model's language, and how many calls to time (enough to read a
  // sub-microsecond echo on R's millisecond clock).
  std::string own_inputs;
  int own_calls;
};

// The model's own predict, called in a fresh interpreter as its runtime calls
// it (model.R's predict_fn, model.py's Model.predict), timed in a loop there.
double OwnPredictUs(const Case& c) {
  if (c.backend == Backend::kR) {
    return InInterpreterUs("Rscript --vanilla -e 'model_dir <- \"" + c.dir +
                           "\"; source(file.path(model_dir, \"model.R\")); " + c.own_inputs +
                           "; for (i in 1:200) predict_fn(inputs); n <- " +
                           std::to_string(c.own_calls) +
                           "; t <- system.time(for (i in 1:n) predict_fn(inputs))[[\"elapsed\"]]; "
                           "cat(t / n * 1e6)' 2>/dev/null");
  }
  return InInterpreterUs(
      TestPython() + " -c 'import importlib.util, sys, time, types\nimport numpy as np\n" +
      // What the host's built-in modelgate_runtime module gives a model.
      "sys.modules[\"modelgate_runtime\"] = types.SimpleNamespace("
      "InvalidInput=type(\"InvalidInput\", (ValueError,), {}))\n" +
      "spec = importlib.util.spec_from_file_location(\"model\", \"" + c.dir +
      "/model.py\"); mod = importlib.util.module_from_spec(spec); "
      "spec.loader.exec_module(mod)\nm = mod.Model(\"" +
      c.dir + "\")\n" + c.own_inputs +
      "\nfor _ in range(200): m.predict(inputs)\nn = " + std::to_string(c.own_calls) +
      "\nt = time.perf_counter()\nfor _ in range(n): m.predict(inputs)\n"
      "print((time.perf_counter() - t) / n * 1e6)' 2>/dev/null");
}

StatusOr<Stats> MeasureWorker(WorkerHarness& h, const Case& c, int n) {
  auto w = h.Start(c.backend, c.dir, c.dataframe);
  if (w->state() != WorkerState::kReady) {
    return Unavailable("worker did not start: " + h.last_death.message());
  }
  std::vector<double> us;
  us.reserve(static_cast<size_t>(n));
  Status failure;
  for (int i = 0; i < n + 50; ++i) {  // the first 50 warm up
    auto in = c.inputs;
    const auto t0 = BenchClock::now();
    auto out = h.Infer(*w, std::move(in));
    if (i >= 50)
      us.push_back(std::chrono::duration<double, std::micro>(BenchClock::now() - t0).count());
    if (!out.ok()) {
      failure = Internal("round trip failed: " + out.status().ToString());
      break;
    }
  }
  const int dead_before = h.dead_events;
  w->Stop(std::chrono::seconds(2), DeathCause::kStopped);
  RunUntil(
      h.io, [&] { return h.dead_events > dead_before; }, std::chrono::seconds(10));
  if (!failure.ok()) return failure;
  return Summarize(std::move(us));
}

std::vector<Case> Cases() {
  const std::string bench_models = SourceDir() + "/benchmarks/models/";
  std::vector<Case> cases;
  cases.push_back({"mtcars_am (R glm)",
                   "mtcars_am",
                   Backend::kR,
                   ExampleModelDir("mtcars_am"),
                   true,
                   {},
                   "inputs <- data.frame(wt = 2.62, hp = 110)",
                   2000});
  cases.back().inputs.push_back(Fp64("wt", {1}, {2.62}));
  cases.back().inputs.push_back(Fp64("hp", {1}, {110}));
  cases.push_back({"iris_species (sklearn)",
                   "iris_species",
                   Backend::kPython,
                   ExampleModelDir("iris_species"),
                   false,
                   {},
                   "inputs = {\"features\": np.array([[5.1, 3.5, 1.4, 0.2]])}",
                   2000});
  cases.back().inputs.push_back(Fp64("features", {1, 4}, {5.1, 3.5, 1.4, 0.2}));
  cases.push_back({"echo_r (returns x)",
                   "echo_r",
                   Backend::kR,
                   bench_models + "echo_r/1",
                   false,
                   {},
                   "inputs <- list(x = 2.62)",
                   200000});
  cases.back().inputs.push_back(Fp64("x", {1}, {2.62}));
  cases.push_back({"echo_py (returns x)",
                   "echo_py",
                   Backend::kPython,
                   bench_models + "echo_py/1",
                   false,
                   {},
                   "inputs = {\"x\": np.array([2.62])}",
                   200000});
  cases.back().inputs.push_back(Fp64("x", {1}, {2.62}));
  return cases;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--echo-child") == 0)
    return bench::RunPipeEchoChild(argc > 2 ? std::atof(argv[2]) : 0);
  const int n = argc > 1 ? std::max(1, std::atoi(argv[1])) : 2000;
  spdlog::set_level(spdlog::level::warn);  // keep the table readable
  const char* host = std::getenv("MODELGATE_WORKER_HOST");
  std::printf("1-row predict, %d round trips each, C++ process layer -> worker -> C++\n", n);
  std::printf("worker host: %s\n\n",
              host && *host ? host : "the test runtime's default (MODELGATE_WORKER_HOST unset)");
  std::printf("%-24s %9s %9s %9s %9s %9s %9s %9s %9s\n", "model", "rt p50", "rt p99", "own",
              "echo p50", "rt-own", "hop", "busy p50", "rt-busy");
  WorkerHarness h;
  std::string machine;
  for (const Case& c : Cases()) {
    auto rt = MeasureWorker(h, c, n);
    if (!rt.ok()) {
      std::printf("%-24s skipped: %s\n", c.label, rt.status().message().c_str());
      continue;
    }
    auto echo = bench::TimePipeEcho(h.io, "/proc/self/exe", c.inputs, n);
    if (!echo.ok()) {
      std::printf("%-24s skipped: %s\n", c.label, echo.status().message().c_str());
      continue;
    }
    const Stats e = Summarize(std::move(*echo));
    const double own = OwnPredictUs(c);
    const double hop = rt->p50_us - own - e.p50_us;
    auto busy_echo = bench::TimePipeEcho(h.io, "/proc/self/exe", c.inputs, n, std::max(own, 0.0));
    if (!busy_echo.ok()) {
      std::printf("%-24s skipped: %s\n", c.label, busy_echo.status().message().c_str());
      continue;
    }
    const Stats b = Summarize(std::move(*busy_echo));
    std::printf("%-24s %7.0fus %7.0fus %7.1fus %7.0fus %7.0fus %7.0fus %7.0fus %7.0fus\n", c.label,
                rt->p50_us, rt->p99_us, own, e.p50_us, rt->p50_us - own, hop, b.p50_us,
                rt->p50_us - b.p50_us);
    char line[256];
    std::snprintf(line, sizeof line,
                  "hop model=%s rt_p50_us=%.1f own_us=%.2f echo_p50_us=%.1f hop_us=%.1f "
                  "busy_echo_p50_us=%.1f hop_vs_busy_us=%.1f\n",
                  c.model, rt->p50_us, own, e.p50_us, hop, b.p50_us, rt->p50_us - b.p50_us);
    machine += line;
  }
  std::printf(
      "\nown = the model's own predict, timed in its interpreter; echo = a bare pipe echo child "
      "(same frames, same spawn, no interpreter);\nhop = rt p50 - own - echo p50: what the "
      "runtime adds (protobuf, tensor decode/encode, its own loop);\nbusy = the echo child "
      "spinning `own` us before each answer: rt-busy is the hop against a floor that waited as "
      "long\n\n%s",
      machine.c_str());
  return 0;
}
