// Drives real ProcessWorkers synchronously for process-layer tests.
#pragma once

#include <memory>
#include <optional>

#include "backend/process/process_worker.h"
#include "common/asio_time_source.h"
#include "support/test_env.h"

namespace modelgate::testing {

class WorkerHarness : public Worker::Listener {
 public:
  // Starts a worker for `version_dir` and waits until it is ready or dead.
  std::shared_ptr<ProcessWorker> Start(Backend backend, const std::string& version_dir,
                                       bool dataframe = false);

  // Sends one request and waits for its answer.
  StatusOr<std::vector<Tensor>> Infer(ProcessWorker& w, std::vector<Tensor> inputs,
                                      const std::string& request_id = "test",
                                      const Parameters& parameters = {});

  void OnWorkerReady(Worker&) override { ++ready_events; }
  void OnWorkerDead(Worker&, const Status& why, DeathCause cause) override {
    ++dead_events;
    last_death = why;
    died_before_ready = cause == DeathCause::kStartFailed;
    last_cause = cause;
  }

  boost::asio::io_context io;
  AsioTimeSource time{io};  // real processes: real time
  ChildReaper reaper{io};
  int ready_events = 0;
  int dead_events = 0;
  bool died_before_ready = false;
  Status last_death;
  DeathCause last_cause = DeathCause::kCrash;
};

Tensor Fp64(const std::string& name, std::vector<int64_t> shape, const std::vector<double>& v);
std::vector<double> AsDoubles(const Tensor& t);

}  // namespace modelgate::testing
