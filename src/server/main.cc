// The modelgate daemon: wires the model repository, the worker pools, the
// REST, gRPC and metrics listeners, and signal-driven shutdown.
//
// Threads: one I/O thread runs Asio (REST sessions, worker pipes, pools,
// timers) and is the only thread that spawns workers (their death signal is
// tied to it); gRPC runs its own threads and posts into the I/O thread; the
// main thread waits for SIGTERM/SIGINT and drives shutdown.
#include <signal.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <future>
#include <iostream>
#include <thread>

#include "frontend/grpc/grpc_frontend.h"
#include "frontend/http/http_api.h"
#include "frontend/http/http_server.h"
#include "modelgate/child_reaper.h"
#include "modelgate/inference_core.h"
#include "modelgate/logging.h"
#include "modelgate/metrics.h"
#include "modelgate/model_repository.h"
#include "modelgate/worker_user.h"
#include "server/daemon_options.h"
#include "spdlog/spdlog.h"

#ifndef MODELGATE_DEFAULT_BRIDGE_DIR
#define MODELGATE_DEFAULT_BRIDGE_DIR "/usr/share/modelgate/bridge"
#endif

namespace asio = boost::asio;
using namespace modelgate;

namespace {

template <typename F>
void RunOnIo(asio::io_context& io, F&& f) {
  std::promise<void> done;
  asio::post(io, [&] {
    f();
    done.set_value();
  });
  done.get_future().wait();
}

}  // namespace

int main(int argc, char** argv) {
  int exit_code = 0;
  auto options = ParseDaemonOptions(argc, argv, &exit_code);
  if (!options) return exit_code;
  if (Status s = SetupLogging(options->log_format, options->log_level); !s.ok()) {
    std::cerr << "modelgate: " << s.message() << "\n";
    return 2;
  }
  // Every exit path flushes the asynchronous log queue.
  struct FlushLogsAtExit {
    ~FlushLogsAtExit() { spdlog::shutdown(); }
  } flush_logs_at_exit;
  // A worker that dies while we write to it must give EPIPE, not kill us.
  ::signal(SIGPIPE, SIG_IGN);
  // Processes that model code detaches (own session or group) come back to
  // us when their worker exits, so none of them outlives its worker or us.
  if (Status s = BecomeChildSubreaper(); !s.ok()) {
    spdlog::warn("{}: processes detached by model code may outlive their worker", s.message());
  }
  // Never model code as root: workers switch to an unprivileged user.
  auto identity = SetUpWorkerIdentity(options->worker_user);
  if (!identity.ok()) {
    spdlog::critical("{}", identity.status().message());
    return 2;
  }
  WorkerHome worker_home(identity->home);
  if (identity->user) {
    spdlog::info("workers run as user={} uid={} gid={} home={}", identity->user->name,
                 identity->user->uid, identity->user->gid, identity->home);
  } else if (!identity->ignored_request.empty()) {
    spdlog::warn("--worker-user {} ignored: the daemon is not root; workers run as uid {}",
                 identity->ignored_request, ::geteuid());
  }

  auto models = ScanRepository(options->model_repository);
  if (!models.ok()) {
    spdlog::critical("model repository: {}", models.status().message());
    return 2;
  }
  RuntimeSettings runtime;
  runtime.bridge_dir =
      options->bridge_dir.empty() ? MODELGATE_DEFAULT_BRIDGE_DIR : options->bridge_dir;
  runtime.rscript = options->rscript;
  runtime.python = options->python.empty() ? DefaultPython() : options->python;
  runtime.worker_user = identity->user;
  runtime.worker_home = identity->home;
  for (const auto& m : *models) {
    spdlog::info("model={} backend={} versions={} workers={} config={}", m.config.name,
                 BackendName(m.config.backend), m.versions.size(), m.config.workers,
                 m.config.source_file);
  }

  asio::io_context io(1);
  asio::signal_set stop_signals(io, SIGTERM, SIGINT);
  Metrics metrics;
  Metrics* metrics_on = options->metrics ? &metrics : nullptr;
  InferenceCore core(io, runtime, std::move(models).value(), metrics_on);
  HttpApi api(core, metrics_on, options->access_log);
  HttpLimits limits;
  limits.max_body_bytes = options->max_request_bytes;
  limits.max_connections = options->max_connections;
  core.set_max_inflight(options->max_inflight);
  HttpServer http(io, limits, [&api](HttpRequest&& req, HttpRespond respond) {
    return api.Handle(std::move(req), std::move(respond));
  });
  GrpcFrontend grpc(core, metrics_on, options->access_log);

  auto http_port = http.Listen(options->host, static_cast<uint16_t>(options->http_port));
  if (!http_port.ok()) {
    spdlog::critical("{}", http_port.status().message());
    return 1;
  }
  auto grpc_port =
      grpc.Start(options->host, options->grpc_port,
                 static_cast<int>(std::min<size_t>(options->max_request_bytes, INT32_MAX)));
  if (!grpc_port.ok()) {
    spdlog::critical("{}", grpc_port.status().message());
    return 1;
  }
  if (Status s = options->metrics
                     ? metrics.Serve(options->host, static_cast<uint16_t>(options->metrics_port))
                     : Status::Ok();
      !s.ok()) {
    spdlog::critical("{}", s.message());
    return 1;
  }
  core.set_ready_observer([&grpc](const std::string&) { grpc.UpdateHealth(); });
  // Pool state lives on the io thread; a scrape reads it there (bounded wait).
  metrics.SetSnapshotSource([&io, &core] {
    auto done = std::make_shared<std::promise<std::vector<PoolSnapshot>>>();
    auto result = done->get_future();
    asio::post(io, [done, &core] { done->set_value(core.Snapshot()); });
    if (result.wait_for(std::chrono::seconds(2)) != std::future_status::ready) {
      return std::vector<PoolSnapshot>{};
    }
    return result.get();
  });

  std::promise<int> stop_requested;
  stop_signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (!ec) stop_requested.set_value(sig);
  });
  auto work = asio::make_work_guard(io);
  std::thread io_thread([&io] { io.run(); });
  core.Start();
  spdlog::info("modelgate listening host={} http_port={} grpc_port={} metrics_port={}",
               options->host, *http_port, *grpc_port, options->metrics_port);

  const int sig = stop_requested.get_future().get();
  const auto grace = std::chrono::seconds(options->shutdown_grace_seconds);
  const auto drain_deadline = std::chrono::steady_clock::now() + grace;
  spdlog::info("signal={} shutting down, grace_seconds={} inflight={}", sig, grace.count(),
               core.inflight());
  // 1. Health NOT_SERVING, refuse new work, stop accepting connections.
  core.BeginShutdown();
  grpc.SetNotServing();
  RunOnIo(io, [&] { http.StopAccepting(); });
  std::thread grpc_stop([&] { grpc.Shutdown(std::chrono::system_clock::now() + grace); });
  // 2. Let queued and running requests finish within the grace period.
  while (core.inflight() > 0 && std::chrono::steady_clock::now() < drain_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // 3. What is still queued gets 503; workers get EOF, SIGTERM after 2 s,
  //    SIGKILL after 4 s, and a request still running is answered when its
  //    worker is gone. Wait until every worker is reaped.
  RunOnIo(io, [&] { core.Stop(std::chrono::seconds(2)); });
  for (int i = 0; i < 200; ++i) {
    size_t alive = 0;
    RunOnIo(io, [&] { alive = core.WorkerProcesses(); });
    if (alive == 0 && core.inflight() == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  grpc_stop.join();
  // Let the last REST answers leave their sockets.
  RunOnIo(io, [] {});
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  work.reset();
  io.stop();
  io_thread.join();
  // Nothing survives us: whatever model code left behind (and any worker
  // that did not exit in time) is killed and reaped now.
  if (const size_t left = KillRemainingDescendants(std::chrono::seconds(2)); left > 0) {
    spdlog::info("killed {} leftover processes", left);
  }
  spdlog::info("modelgate stopped");
  return 0;
}
