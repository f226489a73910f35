// Builds the command line and environment of an R or Python worker.
#pragma once

#include <map>
#include <string>

#include "modelgate/subprocess.h"

namespace modelgate {

enum class Backend { kR, kPython };

// Where the runtimes live and which interpreters run them, daemon-wide.
struct RuntimeSettings {
  std::string bridge_dir;  // holds R/, python/, proto/ (see CMakeLists.txt)
  std::string rscript = "Rscript";
  std::string python;  // empty: DefaultPython()
};

// /usr/bin/python3 when it exists (Debian's, which sees python3-numpy), else
// "python3" from PATH. A pyenv python3 earlier on PATH often lacks numpy.
std::string DefaultPython();

struct WorkerCommandOptions {
  Backend backend = Backend::kPython;
  std::string version_dir;  // the model version directory
  bool dataframe = false;
  std::string interpreter;                 // overrides the runtime's default when set
  std::map<std::string, std::string> env;  // the model's own variables, set last
};

// The environment is controlled: a short allow-list taken from the daemon's
// (PATH, HOME, LANG, TZ, TMPDIR, R_LIBS*), one BLAS thread per worker (the
// pool provides the parallelism), unbuffered Python, then the model's env.
SpawnOptions WorkerCommand(const RuntimeSettings& runtime, const WorkerCommandOptions& options);

}  // namespace modelgate
