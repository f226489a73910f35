// What the daemon sets up in its own process before it serves: signal
// dispositions, the descriptor limit, subreaping, the identity its workers
// run as, and the models of the repository. Each step logs what it did.
// Main thread, before any other thread exists.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backend/process/worker_command.h"
#include "backend/process/worker_user.h"
#include "modelgate/model_repository.h"
#include "modelgate/status.h"
#include "server/daemon_options.h"

namespace modelgate {

// SIGHUP must never end the daemon: ignored from construction (before any
// handler is installed) and again at destruction (when the Server's handler
// is gone, as an Asio signal_set restores the default action). Make it the
// first local of main().
class ScopedIgnoreSighup {
 public:
  ScopedIgnoreSighup();
  ~ScopedIgnoreSighup();
  ScopedIgnoreSighup(const ScopedIgnoreSighup&) = delete;
  ScopedIgnoreSighup& operator=(const ScopedIgnoreSighup&) = delete;
};

// Ignores SIGPIPE (a worker that dies while we write to it gives EPIPE),
// raises the soft descriptor limit to the hard one (every connection and
// worker pipe takes descriptors; workers inherit it) and makes the daemon a
// child subreaper (processes model code detaches come back to it, so none
// outlives its worker). Failures are logged; none is fatal.
void PrepareProcess();

// The worker identity (logged), with its HOME owned by `*home`. An error
// names the user.
StatusOr<WorkerIdentity> SetUpWorkers(const DaemonOptions& options,
                                      std::unique_ptr<WorkerHome>* home);

// How workers are started: the worker host, the worker user.
RuntimeSettings RuntimeFor(const DaemonOptions& options, const WorkerIdentity& identity);

// The repository's models, each logged ("model found").
StatusOr<std::vector<ModelEntry>> LoadModels(const std::string& repository);

}  // namespace modelgate
