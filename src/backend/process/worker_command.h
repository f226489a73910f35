// Builds the command line and environment of an R or Python worker.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "backend/process/subprocess.h"
#include "common/limits.h"
#include "modelgate/backend.h"

namespace modelgate {

// Which program the workers run and as whom, daemon-wide.
struct RuntimeSettings {
  // The native worker host (modelgate-worker), which embeds R and Python.
  std::string worker_host = "modelgate-worker";
  // Set when the daemon is root: workers run as this user, with HOME at
  // `worker_home` (a directory that user owns).
  std::optional<WorkerUser> worker_user;
  std::string worker_home;
};

struct WorkerCommandOptions {
  Backend backend = Backend::kPython;
  std::string version_dir;  // the model version directory
  bool dataframe = false;
  std::string interpreter;                 // a worker host of its own, when set
  std::map<std::string, std::string> env;  // the model's own variables, set last
  // Native host only (`--python-path DIR` / `--r-libs DIR` each, in order):
  // absolute directories, checked by the repository scan.
  std::vector<std::string> python_path;
  std::vector<std::string> r_libs;
};

// The environment is controlled: a short allow-list taken from the daemon's
// (PATH, HOME, LANG, TZ, TMPDIR, R_LIBS*), one BLAS thread per worker (the
// pool provides the parallelism), unbuffered Python, then the model's env,
// then kMaxFrameBytesEnv (a model's env cannot change the protocol limit).
// With a worker user, HOME is `worker_home`, and the model directory must be
// readable by that user (checked at spawn).
SpawnOptions WorkerCommand(const RuntimeSettings& runtime, const WorkerCommandOptions& options);

}  // namespace modelgate
