#include "server/server.h"

#include <signal.h>
#include <sys/stat.h>

#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "backend/process/child_reaper.h"
#include "backend/process/worker_user.h"
#include "config/version_snapshot.h"
#include "frontend/grpc/grpc_frontend.h"
#include "frontend/http/http_api.h"
#include "frontend/http/http_server.h"
#include "frontend/http/metrics_endpoint.h"
#include "frontend/http/offload_pool.h"
#include "modelgate/log_event.h"
#include "modelgate/version.h"
#include "observability/metrics.h"
#include "security/token_authenticator.h"
#include "security/token_file_reloader.h"
#include "server/inference_core.h"
#include "server/server_setup.h"

namespace modelgate {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

Server::Server(DaemonOptions options)
    : options_(std::move(options)),
      tls_{options_.tls_cert, options_.tls_key, options_.tls_client_ca} {}

Server::ScopedDir::~ScopedDir() {
  // Snapshots have no write bits: RemoveSnapshot gives them back first.
  if (!path.empty()) RemoveSnapshot(path);
}

Server::~Server() {
  if (grpc_stop_.joinable()) grpc_stop_.join();
  if (io_thread_.joinable()) {  // Start() without Stop()
    work_.reset();
    io_.stop();
    io_thread_.join();
  }
}

template <typename F>
void Server::RunOnIo(F&& f) {
  std::promise<void> done;
  asio::post(io_, [&] {
    f();
    done.set_value();
  });
  done.get_future().wait();
}

int Server::Start() {
  PrepareProcess();
  auto identity = SetUpWorkers(options_, &worker_home_);
  if (!identity.ok()) {
    LogCritical("cannot set up the workers", {{"error", identity.status().message()}});
    return kExitBadSetup;
  }
  // Taken before the scan: an edit made while it runs shows at the first poll.
  std::map<std::string, std::string> signatures;
  if (auto names = ListModels(options_.model_repository); names.ok()) {
    for (const auto& name : *names) {
      signatures[name] = StatSignature(options_.model_repository + "/" + name);
    }
  }
  auto models = LoadModels(options_.model_repository);
  if (!models.ok()) {
    LogCritical("cannot read the model repository", {{"error", models.status().message()}});
    return kExitBadSetup;
  }
  if (int code = SnapshotModels(*models); code != kExitOk) return code;
  stop_signals_.emplace(io_, SIGTERM, SIGINT);
  reload_signals_.emplace(io_, SIGHUP);
  if (int code = BuildServices(RuntimeFor(options_, *identity), std::move(models).value(),
                               std::move(signatures));
      code != kExitOk) {
    return code;
  }
  if (int code = EnableTls(); code != kExitOk) return code;
  if (int code = Listen(); code != kExitOk) return code;
  core_->set_ready_observer([grpc = grpc_.get()](const std::string&) { grpc->UpdateHealth(); });

  AwaitReload();
  stop_signals_->async_wait([this](const boost::system::error_code& ec, int sig) {
    if (!ec) stop_requested_.set_value(sig);
  });
  // SIGHUP and changes of the token file re-read it (gRPC re-reads its TLS
  // files by itself every GrpcFrontend::kTlsRefreshSeconds).
  token_reloader_ = std::make_unique<TokenFileReloader>(io_, auth_.get());
  work_.emplace(asio::make_work_guard(io_));
  io_thread_ = std::thread([this] { io_.run(); });
  core_->Start();
  LogInfo("modelgate listening", {{"version", kVersion},
                                  {"host", options_.host},
                                  {"http_port", http_port_},
                                  {"grpc_port", grpc_port_},
                                  {"metrics_port", options_.metrics_port}});
  LogInfo("security", {{"tls", options_.tls_cert.empty()        ? "off"
                               : options_.tls_client_ca.empty() ? "on"
                                                                : "mutual"},
                       {"auth_tokens", auth_ ? auth_->size() : size_t{0}},
                       {"cors_origins", options_.cors_allow_origins.size()}});
  if (!auth_ && options_.host != "127.0.0.1" && options_.host != "::1" &&
      options_.host != "localhost") {
    // Anyone who reaches the ports can infer and load or unload models.
    LogWarn("listening beyond loopback without --auth-tokens", {{"host", options_.host}});
  }
  return kExitOk;
}

namespace {

// Names the daemon that owns a snapshot root.
constexpr const char* kSnapshotOwnerFile = ".daemon-pid";

// Snapshot roots of this user's daemons that died without cleaning up (kill
// -9, a crash): their owner file names a pid that no longer runs.
void RemoveDeadDaemonsSnapshots(const std::filesystem::path& tmp) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(tmp, ec)) {
    const std::string name = e.path().filename().string();
    struct stat st {};
    if (name.rfind("modelgate-snapshots-", 0) != 0 || ::lstat(e.path().c_str(), &st) != 0 ||
        !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid()) {
      continue;
    }
    std::ifstream owner(e.path() / kSnapshotOwnerFile);
    long pid = 0;
    if (!(owner >> pid) || pid <= 0) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    LogInfo("removing a dead daemon's snapshots", {{"path", e.path().string()}, {"pid", pid}});
    RemoveSnapshot(e.path().string());
  }
}

}  // namespace

int Server::SnapshotModels(std::vector<ModelEntry>& models) {
  namespace fs = std::filesystem;
  std::error_code ec;
  RemoveDeadDaemonsSnapshots(fs::temp_directory_path(ec));
  // A fresh directory of our own (mkdtemp: unpredictable, 0700 until
  // SnapshotVersion opens it to 0711), never one someone prepared.
  std::string root = (fs::temp_directory_path(ec) / "modelgate-snapshots-XXXXXX").string();
  if (::mkdtemp(root.data()) == nullptr) {
    LogCritical("cannot create the snapshot directory",
                {{"path", root}, {"error", std::strerror(errno)}});
    return kExitBadSetup;
  }
  snapshots_.path = root;
  std::ofstream(root + "/" + kSnapshotOwnerFile) << ::getpid() << "\n";
  for (auto& model : models) {
    if (Status s = SnapshotEntry(model, snapshots_.path); !s.ok()) {
      LogCritical("cannot snapshot a model version",
                  {{"model", model.config.name}, {"error", s.message()}});
      return kExitBadSetup;
    }
  }
  return kExitOk;
}

int Server::BuildServices(const RuntimeSettings& runtime, std::vector<ModelEntry> models,
                          std::map<std::string, std::string> signatures) {
  metrics_ = std::make_unique<Metrics>();
  metrics_on_ = options_.metrics ? metrics_.get() : nullptr;
  LifecycleOptions lifecycle;
  lifecycle.mode = options_.model_control_mode == "poll"       ? ControlMode::kPoll
                   : options_.model_control_mode == "explicit" ? ControlMode::kExplicit
                                                               : ControlMode::kNone;
  lifecycle.repository = options_.model_repository;
  lifecycle.snapshot_root = snapshots_.path;
  lifecycle.poll_period = std::chrono::seconds(options_.repository_poll_secs);
  lifecycle.initial_signatures = std::move(signatures);
  core_ = std::make_unique<InferenceCore>(io_, runtime, std::move(models), metrics_on_,
                                          std::move(lifecycle));
  offload_ = std::make_unique<OffloadPool>(io_);
  api_ = std::make_unique<HttpApi>(*core_, core_->time(), metrics_on_, options_.access_log);
  // Security (README "Security"): bearer tokens for both front ends, CORS for
  // REST, TLS for gRPC.
  if (!options_.auth_tokens.empty()) {
    auto loaded = TokenAuthenticator::FromFile(options_.auth_tokens);
    if (!loaded.ok()) {
      LogCritical("--auth-tokens", {{"error", loaded.status().message()}});
      return kExitBadSetup;
    }
    auth_ = std::move(loaded).value();
    if (metrics_on_) {
      auth_->set_failure_observer([m = metrics_on_](AuthResult r) { m->RecordAuthFailure(r); });
    }
  }
  api_->set_authenticator(auth_.get());
  api_->set_cors(CorsPolicy(options_.cors_allow_origins));
  api_->set_offload(offload_.get());
  api_->set_max_body_bytes(options_.max_request_bytes);
  HttpLimits limits;
  limits.max_body_bytes = options_.max_request_bytes;
  limits.max_connections = options_.max_connections;
  limits.probe_paths = {"/v2/health/live", "/v2/health/ready", "/"};
  core_->set_max_inflight(options_.max_inflight);
  http_ = std::make_unique<HttpServer>(io_, limits,
                                       [api = api_.get()](HttpRequest&& req, HttpRespond respond) {
                                         return api->Handle(std::move(req), std::move(respond));
                                       });
  grpc_ = std::make_unique<GrpcFrontend>(*core_, core_->time(), metrics_on_, options_.access_log);
  grpc_->set_authenticator(auth_.get());
  grpc_->set_tls({options_.tls_cert, options_.tls_key, options_.tls_client_ca});
  // Pool state lives on the io thread; a scrape posts there for it.
  if (options_.metrics) {
    metrics_endpoint_ = std::make_unique<MetricsEndpoint>(
        *metrics_, io_, [core = core_.get()] { return core->Snapshot(); });
  }
  return kExitOk;
}

int Server::EnableTls() {
  if (!tls_.enabled()) return kExitOk;
  Status s = http_->EnableTls(tls_);
  if (s.ok() && metrics_endpoint_) s = metrics_endpoint_->EnableTls(tls_);
  if (!s.ok()) {
    LogCritical("cannot enable tls", {{"error", s.message()}});
    return kExitBadSetup;
  }
  LogInfo("tls enabled for http and metrics",
          {{"cert", tls_.cert_file},
           {"client_ca", tls_.client_ca_file.empty() ? "none" : tls_.client_ca_file}});
  return kExitOk;
}

int Server::Listen() {
  auto http_port = http_->Listen(options_.host, static_cast<uint16_t>(options_.http_port));
  if (!http_port.ok()) {
    LogCritical("cannot listen", {{"listener", "http"}, {"error", http_port.status().message()}});
    return kExitCannotListen;
  }
  http_port_ = *http_port;
  auto grpc_port =
      grpc_->Start(options_.host, options_.grpc_port,
                   static_cast<int>(std::min<size_t>(options_.max_request_bytes, INT32_MAX)));
  if (!grpc_port.ok()) {
    LogCritical("cannot listen", {{"listener", "grpc"}, {"error", grpc_port.status().message()}});
    return kExitCannotListen;
  }
  grpc_port_ = *grpc_port;
  if (metrics_endpoint_) {
    auto port =
        metrics_endpoint_->Start(options_.host, static_cast<uint16_t>(options_.metrics_port));
    if (!port.ok()) {
      LogCritical("cannot listen", {{"listener", "metrics"}, {"error", port.status().message()}});
      return kExitCannotListen;
    }
  }
  return kExitOk;
}

// SIGHUP: new connections get the certificate and key now in the files; a
// bad file keeps the previous ones (logged).
void Server::AwaitReload() {
  reload_signals_->async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    if (tls_.enabled()) {
      LogInfo("SIGHUP: reloading TLS certificate and key", {{"signal", SIGHUP}});
      (void)http_->ReloadTls();
      if (metrics_endpoint_) (void)metrics_endpoint_->ReloadTls();
    } else {
      LogInfo("SIGHUP: no TLS certificate to reload", {{"signal", SIGHUP}});
    }
    if (core_->control_mode() == ControlMode::kNone) {
      LogInfo("SIGHUP: the model repository is not rescanned (--model-control-mode none)",
              {{"signal", SIGHUP}});
    } else {
      LogInfo("SIGHUP: rescanning the model repository",
              {{"signal", SIGHUP}, {"repository", options_.model_repository}});
      core_->Rescan();
    }
    AwaitReload();
  });
}

int Server::AwaitStopSignal() { return stop_requested_.get_future().get(); }

void Server::Drain(SteadyClock::time_point deadline) {
  // 1. Health NOT_SERVING, refuse new work, stop accepting connections.
  core_->BeginShutdown();
  grpc_->SetNotServing();
  RunOnIo([this] { http_->StopAccepting(); });
  const auto grpc_deadline = std::chrono::system_clock::now() + (deadline - core_->time().Now());
  grpc_stop_ = std::thread([this, grpc_deadline] { grpc_->Shutdown(grpc_deadline); });
  // 2. Let queued and running requests finish until the deadline. Shared:
  //    the core may call back after the wait gave up.
  auto idle = std::make_shared<std::promise<void>>();
  core_->NotifyWhenIdle([idle] { idle->set_value(); });
  idle->get_future().wait_until(deadline);
}

void Server::Stop() {
  // 3. What is still queued gets 503; workers get EOF, SIGTERM and SIGKILL
  //    (kWorkerStopGrace), and a request still running is answered when its
  //    worker is gone. Wait until every worker is reaped.
  RunOnIo([this] { core_->Stop(kWorkerStopGrace); });
  auto stopped = std::make_shared<std::promise<void>>();
  core_->NotifyWhenStopped([stopped] { stopped->set_value(); });
  stopped->get_future().wait_for(kWorkerExitWait);
  if (grpc_stop_.joinable()) grpc_stop_.join();
  // Let the last REST answers leave their sockets.
  RunOnIo([] {});
  std::this_thread::sleep_for(kResponseFlushTime);
  if (metrics_endpoint_) metrics_endpoint_->Stop();
  work_.reset();
  io_.stop();
  io_thread_.join();
  // Nothing survives us: whatever model code left behind (and any worker
  // that did not exit in time) is killed and reaped now.
  if (const size_t left = KillRemainingDescendants(kLeftoverKillBudget); left > 0) {
    LogInfo("killed leftover processes", {{"count", left}});
  }
  LogInfo("modelgate stopped");
}

int Server::Run() {
  if (int code = Start(); code != kExitOk) return code;
  const int sig = AwaitStopSignal();
  const auto grace = std::chrono::seconds(options_.shutdown_grace_seconds);
  const SteadyTime deadline = core_->time().Now() + grace;
  LogInfo("shutting down",
          {{"signal", sig}, {"grace_seconds", grace.count()}, {"inflight", core_->inflight()}});
  Drain(deadline);
  Stop();
  return kExitOk;
}

}  // namespace modelgate
