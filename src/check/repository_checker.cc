#include "check/repository_checker.h"

#include <unistd.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>

#include "backend/pool/model_pool.h"
#include "backend/process/process_worker.h"
#include "check/example_compare.h"
#include "config/version_snapshot.h"
#include "server/inference_core.h"
#include "server/output_contract.h"
#include "server/request_validation.h"

namespace modelgate {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr double kBytesPerMib = 1024.0 * 1024.0;

milliseconds ExampleTimeout(const ModelConfig& c) {
  if (c.default_timeout_ms > 0) return milliseconds(c.default_timeout_ms);
  if (c.max_timeout_ms > 0) return milliseconds(c.max_timeout_ms);
  return RepositoryChecker::kFallbackExampleTimeout;
}

// Waits for `f` at most `bound`; nullopt when it did not come.
template <typename T>
std::optional<T> WaitFor(std::future<T>& f, SteadyClock::duration bound) {
  if (f.wait_for(bound) != std::future_status::ready) return std::nullopt;
  return f.get();
}

std::string Seconds(SteadyClock::duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count()) + " s";
}

}  // namespace

RepositoryChecker::RepositoryChecker(asio::io_context& io, RuntimeSettings runtime)
    : io_(io), time_(io), reaper_(io), runtime_(std::move(runtime)) {}

template <typename F>
void RepositoryChecker::RunOnIo(F&& f) {
  std::promise<void> done;
  asio::post(io_, [&] {
    f();
    done.set_value();
  });
  done.get_future().wait();
}

StatusOr<std::vector<CheckRow>> RepositoryChecker::CheckRepository(
    const std::string& root, const std::optional<std::string>& only) {
  auto names = ListModels(root);
  if (!names.ok()) return names.status();
  if (only) names = std::vector<std::string>{*only};
  // Workers load private copies, as the daemon's do (version_snapshot.h): the
  // same permissions for a worker user, the same fingerprint. The root is
  // named like the daemon's, with its owner file, so a daemon removes it if
  // this process dies before it does.
  std::error_code ec;
  std::string snapshots =
      (std::filesystem::temp_directory_path(ec) / "modelgate-snapshots-XXXXXX").string();
  if (::mkdtemp(snapshots.data()) == nullptr) {
    return Internal("cannot create a snapshot directory " + snapshots + ": " +
                    std::strerror(errno));
  }
  std::ofstream(snapshots + "/.daemon-pid") << ::getpid() << "\n";
  struct RemoveAtEnd {
    std::string dir;
    ~RemoveAtEnd() { RemoveSnapshot(dir); }
  } remove_at_end{snapshots};
  snapshot_root_ = snapshots;
  std::vector<CheckRow> rows;
  for (const std::string& name : *names) {
    auto entry = ScanModel(root, name);
    if (!entry.ok()) {
      CheckRow row;
      row.model = name;
      row.error = entry.status().message();
      rows.push_back(std::move(row));
      continue;
    }
    for (const auto& [version, v] : entry->versions) rows.push_back(CheckVersion(name, v));
  }
  return rows;
}

std::optional<std::string> RepositoryChecker::RunExample(ModelPool& pool, const ModelConfig& config,
                                                         int64_t version, OutputContract& contract,
                                                         size_t index, bool* go_on) {
  const ExampleRequest& example = config.examples[index];
  if (Status s = ValidateInputs(config, example.inputs); !s.ok()) return s.message();
  auto answered = std::make_shared<std::promise<StatusOr<std::vector<Tensor>>>>();
  auto answer_future = answered->get_future();
  const milliseconds timeout = ExampleTimeout(config);
  RunOnIo([&] {
    PoolRequest request;
    request.inputs = example.inputs;
    request.request_id = "check-example-" + std::to_string(index);
    request.deadline = time_.Now() + timeout;
    request.done = [answered](StatusOr<std::vector<Tensor>> r) {
      answered->set_value(std::move(r));
    };
    pool.Submit(std::move(request));
  });
  const auto bound =
      timeout + milliseconds(std::max(config.deadline_kill_grace_ms, config.interrupt_grace_ms)) +
      kWaitMargin;
  auto answer = WaitFor(answer_future, bound);
  if (!answer) {
    *go_on = false;
    return "no answer within " + Seconds(bound);
  }
  if (!answer->ok()) {
    const StatusCode code = answer->status().code();
    if (code == StatusCode::kDeadlineExceeded || code == StatusCode::kUnavailable) *go_on = false;
    if (code == StatusCode::kDeadlineExceeded) {
      return answer->status().message() + " (" + std::to_string(timeout.count()) +
             " ms: the model's default_timeout_ms, else max_timeout_ms)";
    }
    return answer->status().message();
  }
  std::vector<Tensor> outputs = std::move(answer->value());
  std::optional<int64_t> batch_rows;
  if (config.max_batch_size > 0 && !example.inputs.empty() && !example.inputs[0].shape.empty()) {
    batch_rows = example.inputs[0].shape[0];
  }
  if (Status s = contract.Apply(config, version, {}, batch_rows, outputs); !s.ok()) {
    return s.message();
  }
  return ExampleMismatch(example, outputs);
}

CheckRow RepositoryChecker::CheckVersion(const std::string& model, const VersionEntry& scanned) {
  CheckRow row;
  row.model = model;
  row.version = std::to_string(scanned.version);
  row.examples_total = scanned.config.examples.size();
  VersionEntry v = scanned;
  auto snapshot = SnapshotVersion(model, v, snapshot_root_);
  if (!snapshot.ok()) {
    row.error = snapshot.status().message();
    return row;
  }
  v.dir = snapshot->dir;
  v.fingerprint = snapshot->fingerprint;
  // One worker is enough to check a version.
  auto config = std::make_shared<ModelConfig>(v.config);
  config->name = model;
  config->workers = 1;
  const WorkerOptions options = VersionWorkerOptions(runtime_, model, v);
  std::unique_ptr<ModelPool> pool;

  // 1. Start one worker: Hello, then the warm-up requests.
  auto loaded = std::make_shared<std::promise<Status>>();
  auto load_time = std::make_shared<SteadyClock::duration>();
  std::future<Status> load_future = loaded->get_future();
  // The latest worker the pool made (io thread), for the signature its Hello
  // reported.
  auto latest = std::make_shared<std::shared_ptr<ProcessWorker>>();
  RunOnIo([&] {
    auto factory = [this, options, latest](Worker::Listener* listener) -> std::shared_ptr<Worker> {
      *latest = std::make_shared<ProcessWorker>(io_, reaper_, time_, options, listener);
      return *latest;
    };
    pool = std::make_unique<ModelPool>(io_, *config, v.version, factory, time_);
    const SteadyClock::time_point start = SteadyClock::now();
    pool->Start();
    pool->NotifyWhenLoaded([loaded, load_time, start](Status s) {
      *load_time = SteadyClock::now() - start;
      loaded->set_value(std::move(s));
    });
  });
  const auto load_bound = 2 * milliseconds(config->startup_timeout_ms) + kWaitMargin;
  const std::optional<Status> load = WaitFor(load_future, load_bound);
  if (!load) {
    row.error = "no load answer within " + Seconds(load_bound);
  } else if (!load->ok()) {
    row.error = load->message();
  } else {
    row.load_ms = std::chrono::duration_cast<milliseconds>(*load_time).count();
  }

  // The signature the daemon would serve: config.json's merged with what the
  // model's code declared (the worker checked that they agree).
  auto served = std::make_shared<ModelConfig>(*config);
  if (row.load_ms) {
    RunOnIo([&] {
      if (*latest) {
        if (auto sig = (*latest)->signature()) {
          served->inputs = sig->inputs;
          served->outputs = sig->outputs;
          served->dataframe = sig->dataframe;
        }
      }
    });
  }

  // 2. The examples, one after another, as the daemon would serve them. The
  //    row names the first failure; a timeout or a dead worker ends the run
  //    (the rest would wait for a new worker).
  OutputContract contract;
  bool go_on = row.error.empty();
  for (size_t i = 0; go_on && i < config->examples.size(); ++i) {
    std::optional<std::string> failure = RunExample(*pool, *served, v.version, contract, i, &go_on);
    if (!failure) {
      ++row.examples_passed;
    } else if (row.error.empty()) {
      row.error = "example " + std::to_string(i) + ": " + *failure;
    }
  }

  // 3. The worker's memory now, then stop it and wait until it is reaped.
  auto drained = std::make_shared<std::promise<void>>();
  std::future<void> drained_future = drained->get_future();
  RunOnIo([&] {
    if (row.load_ms) {
      const int64_t rss = pool->WorkerRssBytes();
      if (rss > 0) row.rss_mib = static_cast<double>(rss) / kBytesPerMib;
    }
    pool->Drain(kStopGrace, [drained] { drained->set_value(); });
  });
  const auto drain_bound = 2 * kStopGrace + Worker::kKillGrace + kWaitMargin;
  if (drained_future.wait_for(drain_bound) == std::future_status::ready) {
    RunOnIo([&] { pool.reset(); });
  } else {
    // Its workers may still call into it: leave it, and its config, alive.
    abandoned_.push_back({config, pool.release()});
    if (row.error.empty()) row.error = "its worker did not stop within " + Seconds(drain_bound);
  }
  return row;
}

}  // namespace modelgate
