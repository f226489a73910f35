// The modelgate daemon: wires the model repository, the worker pools, the
// REST, gRPC and metrics listeners, and signal-driven shutdown.
//
// Threads: one I/O thread runs Asio (REST sessions, worker pipes, pools,
// timers) and is the only thread that spawns workers (their death signal is
// tied to it); large REST bodies are parsed and encoded on a small offload
// pool; gRPC runs its own threads and posts into the I/O thread; the metrics
// endpoint has its own thread and reads pool state by posting to the I/O
// thread; the main thread waits for SIGTERM/SIGINT and drives shutdown.
// SIGHUP reloads the TLS certificates and never ends the daemon.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <thread>

#include "backend/process/child_reaper.h"
#include "backend/process/worker_user.h"
#include "frontend/grpc/grpc_frontend.h"
#include "frontend/http/http_api.h"
#include "frontend/http/http_server.h"
#include "frontend/http/metrics_endpoint.h"
#include "frontend/http/offload_pool.h"
#include "modelgate/log_event.h"
#include "modelgate/model_repository.h"
#include "observability/logging.h"
#include "observability/metrics.h"
#include "security/token_authenticator.h"
#include "security/token_file_reloader.h"
#include "server/bridge_dir.h"
#include "server/daemon_options.h"
#include "server/inference_core.h"
#include "spdlog/spdlog.h"

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

// Raises the soft descriptor limit to the hard one: every connection and
// worker pipe takes descriptors, and the usual soft limit (1024) would run
// out long before --max-connections. Workers inherit the raised limit.
void RaiseDescriptorLimit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    LogWarn("descriptor limit: getrlimit failed", {{"error", std::strerror(errno)}});
    return;
  }
  const rlim_t was = rl.rlim_cur;
  rlim_t target = rl.rlim_max;
  if (target == RLIM_INFINITY) {  // the kernel caps it at fs.nr_open
    std::ifstream nr_open("/proc/sys/fs/nr_open");
    unsigned long long n = 0;
    target = (nr_open >> n) && n > 0 ? static_cast<rlim_t>(n) : was;
  }
  if (target > rl.rlim_cur) {
    rl.rlim_cur = target;
    if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) {
      LogWarn(
          "descriptor limit: cannot raise",
          {{"soft", uint64_t{was}}, {"target", uint64_t{target}}, {"error", std::strerror(errno)}});
      return;
    }
  }
  LogInfo("descriptor limit", {{"soft", uint64_t{rl.rlim_cur}},
                               {"hard", rl.rlim_max == RLIM_INFINITY ? std::string("unlimited")
                                                                     : std::to_string(rl.rlim_max)},
                               {"soft_was", uint64_t{was}}});
}

}  // namespace

int main(int argc, char** argv) {
  // SIGHUP must never end the daemon: ignored until its handler is installed
  // below, and again at exit, when the handler is gone.
  ::signal(SIGHUP, SIG_IGN);
  struct IgnoreSighupAtExit {
    ~IgnoreSighupAtExit() { ::signal(SIGHUP, SIG_IGN); }
  } ignore_sighup_at_exit;
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
  RaiseDescriptorLimit();
  // Processes that model code detaches (own session or group) come back to
  // us when their worker exits, so none of them outlives its worker or us.
  if (Status s = BecomeChildSubreaper(); !s.ok()) {
    LogWarn("processes detached by model code may outlive their worker", {{"error", s.message()}});
  }
  // Never model code as root: workers switch to an unprivileged user.
  auto identity = SetUpWorkerIdentity(options->worker_user);
  if (!identity.ok()) {
    LogCritical("worker user", {{"error", identity.status().message()}});
    return 2;
  }
  WorkerHome worker_home(identity->home);
  if (identity->user) {
    LogInfo("workers run as", {{"user", identity->user->name},
                               {"uid", identity->user->uid},
                               {"gid", identity->user->gid},
                               {"home", identity->home}});
  } else if (!identity->ignored_request.empty()) {
    LogWarn("--worker-user ignored: the daemon is not root",
            {{"worker_user", identity->ignored_request}, {"uid", ::geteuid()}});
  }

  auto models = ScanRepository(options->model_repository);
  if (!models.ok()) {
    LogCritical("cannot read the model repository", {{"error", models.status().message()}});
    return 2;
  }
  RuntimeSettings runtime;
  runtime.bridge_dir = options->bridge_dir.empty() ? DefaultBridgeDir() : options->bridge_dir;
  runtime.rscript = options->rscript;
  runtime.python = options->python.empty() ? DefaultPython() : options->python;
  runtime.worker_user = identity->user;
  runtime.worker_home = identity->home;
  for (const auto& m : *models) {
    LogInfo("model found", {{"model", m.config.name},
                            {"backend", BackendName(m.config.backend)},
                            {"versions", m.versions.size()},
                            {"workers", m.config.workers},
                            {"config", m.config.source_file}});
  }

  asio::io_context io(1);
  asio::signal_set stop_signals(io, SIGTERM, SIGINT);
  asio::signal_set reload_signals(io, SIGHUP);
  Metrics metrics;
  Metrics* metrics_on = options->metrics ? &metrics : nullptr;
  InferenceCore core(io, runtime, std::move(models).value(), metrics_on);
  OffloadPool offload(io);
  HttpApi api(core, metrics_on, options->access_log);
  // Security (README "Security"): bearer tokens for both front ends, CORS for
  // REST, TLS for gRPC.
  std::unique_ptr<TokenAuthenticator> auth;
  if (!options->auth_tokens.empty()) {
    auto loaded = TokenAuthenticator::FromFile(options->auth_tokens);
    if (!loaded.ok()) {
      LogCritical("--auth-tokens", {{"error", loaded.status().message()}});
      return 2;
    }
    auth = std::move(loaded).value();
    if (metrics_on) {
      auth->set_failure_observer([&metrics](AuthResult r) { metrics.RecordAuthFailure(r); });
    }
  }
  api.set_authenticator(auth.get());
  api.set_cors(CorsPolicy(options->cors_allow_origins));
  api.set_offload(&offload);
  HttpLimits limits;
  limits.max_body_bytes = options->max_request_bytes;
  limits.max_connections = options->max_connections;
  limits.probe_paths = {"/v2/health/live", "/v2/health/ready"};
  core.set_max_inflight(options->max_inflight);
  HttpServer http(io, limits, [&api](HttpRequest&& req, HttpRespond respond) {
    return api.Handle(std::move(req), std::move(respond));
  });
  GrpcFrontend grpc(core, metrics_on, options->access_log);
  grpc.set_authenticator(auth.get());
  grpc.set_tls({options->tls_cert, options->tls_key, options->tls_client_ca});
  // Pool state lives on the io thread; a scrape posts there for it.
  std::unique_ptr<MetricsEndpoint> metrics_endpoint;
  if (options->metrics) {
    metrics_endpoint =
        std::make_unique<MetricsEndpoint>(metrics, io, [&core] { return core.Snapshot(); });
  }

  const TlsConfig tls{options->tls_cert, options->tls_key, options->tls_client_ca};
  if (tls.enabled()) {
    Status s = http.EnableTls(tls);
    if (s.ok() && metrics_endpoint) s = metrics_endpoint->EnableTls(tls);
    if (!s.ok()) {
      LogCritical("cannot enable tls", {{"error", s.message()}});
      return 2;
    }
    LogInfo("tls enabled for http and metrics",
            {{"cert", tls.cert_file},
             {"client_ca", tls.client_ca_file.empty() ? "none" : tls.client_ca_file}});
  }

  auto http_port = http.Listen(options->host, static_cast<uint16_t>(options->http_port));
  if (!http_port.ok()) {
    LogCritical("cannot listen", {{"listener", "http"}, {"error", http_port.status().message()}});
    return 1;
  }
  auto grpc_port =
      grpc.Start(options->host, options->grpc_port,
                 static_cast<int>(std::min<size_t>(options->max_request_bytes, INT32_MAX)));
  if (!grpc_port.ok()) {
    LogCritical("cannot listen", {{"listener", "grpc"}, {"error", grpc_port.status().message()}});
    return 1;
  }
  if (metrics_endpoint) {
    auto port =
        metrics_endpoint->Start(options->host, static_cast<uint16_t>(options->metrics_port));
    if (!port.ok()) {
      LogCritical("cannot listen", {{"listener", "metrics"}, {"error", port.status().message()}});
      return 1;
    }
  }
  core.set_ready_observer([&grpc](const std::string&) { grpc.UpdateHealth(); });

  // SIGHUP: new connections get the certificate and key now in the files; a
  // bad file keeps the previous ones (logged).
  std::function<void()> await_reload = [&] {
    reload_signals.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      if (tls.enabled()) {
        LogInfo("SIGHUP: reloading TLS certificate and key", {{"signal", SIGHUP}});
        (void)http.ReloadTls();
        if (metrics_endpoint) (void)metrics_endpoint->ReloadTls();
      } else {
        LogInfo("SIGHUP: no TLS certificate to reload", {{"signal", SIGHUP}});
      }
      await_reload();
    });
  };
  await_reload();

  std::promise<int> stop_requested;
  stop_signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (!ec) stop_requested.set_value(sig);
  });
  // SIGHUP and changes of the token file re-read it (gRPC re-reads its TLS
  // files by itself every GrpcFrontend::kTlsRefreshSeconds).
  TokenFileReloader token_reloader(io, auth.get());
  auto work = asio::make_work_guard(io);
  std::thread io_thread([&io] { io.run(); });
  core.Start();
  LogInfo("modelgate listening", {{"host", options->host},
                                  {"http_port", *http_port},
                                  {"grpc_port", *grpc_port},
                                  {"metrics_port", options->metrics_port}});
  LogInfo("security", {{"tls", options->tls_cert.empty()        ? "off"
                               : options->tls_client_ca.empty() ? "on"
                                                                : "mutual"},
                       {"auth_tokens", auth ? auth->size() : size_t{0}},
                       {"cors_origins", options->cors_allow_origins.size()}});
  if (!auth && options->host != "127.0.0.1" && options->host != "::1" &&
      options->host != "localhost") {
    // Anyone who reaches the ports can infer and load or unload models.
    LogWarn("listening beyond loopback without --auth-tokens", {{"host", options->host}});
  }

  const int sig = stop_requested.get_future().get();
  const auto grace = std::chrono::seconds(options->shutdown_grace_seconds);
  const auto drain_deadline = std::chrono::steady_clock::now() + grace;
  LogInfo("shutting down",
          {{"signal", sig}, {"grace_seconds", grace.count()}, {"inflight", core.inflight()}});
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
  if (metrics_endpoint) metrics_endpoint->Stop();
  work.reset();
  io.stop();
  io_thread.join();
  // Nothing survives us: whatever model code left behind (and any worker
  // that did not exit in time) is killed and reaped now.
  if (const size_t left = KillRemainingDescendants(std::chrono::seconds(2)); left > 0) {
    LogInfo("killed leftover processes", {{"count", left}});
  }
  LogInfo("modelgate stopped");
  return 0;
}
