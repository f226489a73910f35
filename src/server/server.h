// Server: the daemon once its options are parsed. Owns the io thread, the
// InferenceCore, the REST, gRPC and metrics listeners, the bearer tokens and
// the daemon's signals: SIGTERM and SIGINT end it (drain, then stop); SIGHUP
// reloads the TLS certificates and the token file, rescans the model
// repository (control modes explicit and poll), and never ends it.
//
// Lifecycle: Start() -> AwaitStopSignal() -> Drain(deadline) -> Stop(); Run()
// does all four with --shutdown-grace-seconds.
//
// Threads: one io thread runs Asio (REST sessions, worker pipes, pools,
// timers) and is the only thread that spawns workers (their death signal is
// tied to it); large REST bodies are parsed and encoded on a small offload
// pool; gRPC runs its own threads and calls the core, which posts into the io
// thread; the metrics endpoint has its own thread and reads pool state by
// posting to the io thread. The lifecycle methods are called from one thread
// (main), which they block.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include "backend/process/worker_command.h"
#include "frontend/http/tls_context.h"
#include "modelgate/model_repository.h"
#include "server/daemon_options.h"

namespace modelgate {

class GrpcFrontend;
class HttpApi;
class HttpServer;
class InferenceCore;
class Metrics;
class MetricsEndpoint;
class OffloadPool;
class TokenAuthenticator;
class TokenFileReloader;
class WorkerHome;

class Server {
 public:
  // The daemon's exit codes.
  static constexpr int kExitOk = 0;
  // A listener could not bind (port taken, bad address).
  static constexpr int kExitCannotListen = 1;
  // The worker user, the model repository, the token file or the TLS files
  // cannot be used (options are checked earlier, with the same code).
  static constexpr int kExitBadSetup = 2;

  // Shutdown timing. Stop() closes each worker's input (EOF: a worker ends
  // once its current call is answered), sends SIGTERM after kWorkerStopGrace
  // and SIGKILL after twice that: long enough for R or Python to exit
  // cleanly, short enough that a wedged model cannot hold the daemon.
  static constexpr std::chrono::seconds kWorkerStopGrace{2};
  // How long Stop() waits for every worker to be reaped: past the SIGKILL at
  // 2 x kWorkerStopGrace, with room for reaping and draining stderr.
  static constexpr std::chrono::seconds kWorkerExitWait{10};
  // The last REST answers are handed to their sockets on the io thread;
  // stopping it closes the connections. This lets the kernel take the bytes
  // of answers too large for one write first.
  static constexpr std::chrono::milliseconds kResponseFlushTime{100};
  // Killing and reaping whatever model code left behind, once the io thread
  // has stopped (nothing is started after that).
  static constexpr std::chrono::seconds kLeftoverKillBudget{2};

  explicit Server(DaemonOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Sets the process up, builds the core and the front ends, binds every
  // listener, starts the io thread and the workers. kExitOk, or the exit
  // code for what failed (logged).
  int Start();
  // Blocks until SIGTERM or SIGINT; returns the signal.
  int AwaitStopSignal();
  // Readiness goes false (REST and gRPC health), new requests get 503, no
  // new connection is accepted; returns once nothing is in flight (the core
  // calls back) or at `deadline`. gRPC cancels what it still runs then.
  void Drain(std::chrono::steady_clock::time_point deadline);
  // Queued requests get 503, workers are stopped and reaped (at most
  // kWorkerExitWait), the listeners and the io thread stop, and leftover
  // descendants are killed.
  void Stop();
  // Start, wait for a stop signal, drain for the grace, stop: the exit code.
  int Run();

 private:
  int BuildServices(const RuntimeSettings& runtime, std::vector<ModelEntry> models,
                    std::map<std::string, std::string> signatures);
  // Copies every served version under snapshots_ (immutable versions).
  int SnapshotModels(std::vector<ModelEntry>& models);
  int EnableTls();
  int Listen();
  void AwaitReload();
  // Runs `f` on the io thread and waits for it.
  template <typename F>
  void RunOnIo(F&& f);

  // A directory removed with everything in it when the server goes (after
  // the core: declared before it).
  struct ScopedDir {
    std::string path;
    ~ScopedDir();
  };

  DaemonOptions options_;
  TlsConfig tls_;
  ScopedDir snapshots_;  // the version snapshots the workers load
  std::unique_ptr<WorkerHome> worker_home_;
  boost::asio::io_context io_{1};
  std::optional<boost::asio::signal_set> stop_signals_;
  std::optional<boost::asio::signal_set> reload_signals_;
  std::unique_ptr<Metrics> metrics_;
  Metrics* metrics_on_ = nullptr;  // metrics_, or null with --metrics off
  std::unique_ptr<InferenceCore> core_;
  std::unique_ptr<OffloadPool> offload_;
  std::unique_ptr<HttpApi> api_;
  std::unique_ptr<TokenAuthenticator> auth_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<GrpcFrontend> grpc_;
  std::unique_ptr<MetricsEndpoint> metrics_endpoint_;
  std::unique_ptr<TokenFileReloader> token_reloader_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread io_thread_;
  std::thread grpc_stop_;  // Drain() to Stop(): gRPC's own shutdown
  std::promise<int> stop_requested_;
  int http_port_ = 0, grpc_port_ = 0;
};

}  // namespace modelgate
