#include "server/server_setup.h"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "backend/process/child_reaper.h"
#include "modelgate/log_event.h"
#include "server/worker_host_path.h"

namespace modelgate {

namespace {

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

ScopedIgnoreSighup::ScopedIgnoreSighup() { ::signal(SIGHUP, SIG_IGN); }
ScopedIgnoreSighup::~ScopedIgnoreSighup() { ::signal(SIGHUP, SIG_IGN); }

void PrepareProcess() {
  ::signal(SIGPIPE, SIG_IGN);
  RaiseDescriptorLimit();
  if (Status s = BecomeChildSubreaper(); !s.ok()) {
    LogWarn("processes detached by model code may outlive their worker", {{"error", s.message()}});
  }
}

StatusOr<WorkerIdentity> SetUpWorkers(const DaemonOptions& options,
                                      std::unique_ptr<WorkerHome>* home) {
  // A missing worker host would fail every model's start one by one.
  const std::string host = options.worker_host.empty() ? DefaultWorkerHost() : options.worker_host;
  if (host.find('/') != std::string::npos && ::access(host.c_str(), X_OK) != 0) {
    return InvalidArgument("the worker host " + host + " is not executable (" +
                           std::strerror(errno) +
                           "): build it (`make`), or name it with --worker-host");
  }
  // Never model code as root: workers switch to an unprivileged user.
  auto identity = SetUpWorkerIdentity(options.worker_user);
  if (!identity.ok()) return identity.status();
  *home = std::make_unique<WorkerHome>(identity->home);
  if (identity->user) {
    LogInfo("workers run as", {{"user", identity->user->name},
                               {"uid", identity->user->uid},
                               {"gid", identity->user->gid},
                               {"home", identity->home}});
  } else if (!identity->ignored_request.empty()) {
    LogWarn("--worker-user ignored: the daemon is not root",
            {{"worker_user", identity->ignored_request}, {"uid", ::geteuid()}});
  }
  return identity;
}

RuntimeSettings RuntimeFor(const DaemonOptions& options, const WorkerIdentity& identity) {
  RuntimeSettings runtime;
  runtime.worker_host = options.worker_host.empty() ? DefaultWorkerHost() : options.worker_host;
  runtime.worker_user = identity.user;
  runtime.worker_home = identity.home;
  return runtime;
}

StatusOr<std::vector<ModelEntry>> LoadModels(const std::string& repository) {
  auto models = ScanRepository(repository);
  if (!models.ok()) return models.status();
  for (const auto& m : *models) {
    LogInfo("model found", {{"model", m.config.name},
                            {"backend", BackendName(m.config.backend)},
                            {"versions", m.versions.size()},
                            {"workers", m.config.workers},
                            {"config", m.config.source_file}});
  }
  return models;
}

}  // namespace modelgate
