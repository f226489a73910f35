#include "backend/process/worker_command.h"

#include <cstdlib>

#include "common/limits.h"

namespace modelgate {

SpawnOptions WorkerCommand(const RuntimeSettings& runtime, const WorkerCommandOptions& options) {
  SpawnOptions spawn;
  spawn.argv = {options.interpreter.empty() ? runtime.worker_host : options.interpreter,
                "--runtime", options.backend == Backend::kR ? "r" : "python", "--model-dir",
                options.version_dir};
  // The host puts them on sys.path / .libPaths().
  for (const auto& dir : options.python_path) {
    spawn.argv.insert(spawn.argv.end(), {"--python-path", dir});
  }
  for (const auto& dir : options.r_libs) spawn.argv.insert(spawn.argv.end(), {"--r-libs", dir});
  if (options.dataframe) spawn.argv.push_back("--dataframe");

  std::map<std::string, std::string> env = {
      {"PATH", "/usr/local/bin:/usr/bin:/bin"},
      {"LANG", "C.UTF-8"},
      {"OMP_NUM_THREADS", "1"},
      {"OPENBLAS_NUM_THREADS", "1"},
      {"MKL_NUM_THREADS", "1"},
      {"PYTHONUNBUFFERED", "1"},
      {"PYTHONDONTWRITEBYTECODE", "1"},
  };
  for (const char* key : {"PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "R_HOME", "R_LIBS",
                          "R_LIBS_USER", "R_LIBS_SITE"}) {
    if (const char* v = std::getenv(key)) env[key] = v;
  }
  if (runtime.worker_user && !runtime.worker_home.empty()) env["HOME"] = runtime.worker_home;
  for (const auto& [k, v] : options.env) env[k] = v;
  env[kMaxFrameBytesEnv] = std::to_string(kMaxFrameBytes);
  for (const auto& [k, v] : env) spawn.env.push_back(k + "=" + v);
  spawn.working_dir = options.version_dir;
  if (runtime.worker_user) {
    spawn.user = runtime.worker_user;
    spawn.must_read = {options.version_dir};
    for (const auto* dirs : {&options.python_path, &options.r_libs}) {
      spawn.must_read.insert(spawn.must_read.end(), dirs->begin(), dirs->end());
    }
  }
  return spawn;
}

}  // namespace modelgate
