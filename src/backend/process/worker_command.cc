#include "backend/process/worker_command.h"

#include <unistd.h>

#include <cstdlib>

#include "common/limits.h"

namespace modelgate {

std::string DefaultPython() {
  return ::access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

SpawnOptions WorkerCommand(const RuntimeSettings& runtime, const WorkerCommandOptions& options) {
  SpawnOptions spawn;
  if (!runtime.worker_host.empty()) {
    spawn.argv = {options.interpreter.empty() ? runtime.worker_host : options.interpreter,
                  "--runtime", options.backend == Backend::kR ? "r" : "python", "--model-dir",
                  options.version_dir};
    // The host puts them on sys.path / .libPaths(); the script runtimes
    // have no such flags (VersionWorkerOptions warns when they are set).
    for (const auto& dir : options.python_path) {
      spawn.argv.insert(spawn.argv.end(), {"--python-path", dir});
    }
    for (const auto& dir : options.r_libs) spawn.argv.insert(spawn.argv.end(), {"--r-libs", dir});
  } else if (options.backend == Backend::kR) {
    spawn.argv = {options.interpreter.empty() ? runtime.rscript : options.interpreter,
                  "--vanilla",
                  runtime.bridge_dir + "/R/worker.R",
                  "--proto",
                  runtime.bridge_dir + "/proto/worker.proto",
                  "--model-dir",
                  options.version_dir};
  } else {
    std::string python = !options.interpreter.empty() ? options.interpreter
                         : !runtime.python.empty()    ? runtime.python
                                                      : DefaultPython();
    spawn.argv = {python, "-u", runtime.bridge_dir + "/python/worker.py", "--model-dir",
                  options.version_dir};
  }
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
    if (options.backend == Backend::kR) {
      spawn.must_read.push_back(runtime.bridge_dir + "/R/worker.R");
      spawn.must_read.push_back(runtime.bridge_dir + "/proto/worker.proto");
    } else {
      spawn.must_read.push_back(runtime.bridge_dir + "/python/worker.py");
    }
  }
  return spawn;
}

}  // namespace modelgate
