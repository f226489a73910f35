// modelgate-worker: the native worker host. Embeds one interpreter (R or
// CPython), loads one model version and answers the daemon's frames on fds
// 3 (in) and 4 (out); stdout and stderr are the model's, for the log.
//
//   modelgate-worker --runtime r|python --model-dir DIR [--dataframe]
//                    [--python-path DIR]... [--r-libs DIR]...
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "runtime.h"
#include "serve_loop.h"

namespace {

constexpr const char* kUsage =
    "usage: modelgate-worker --runtime r|python --model-dir DIR [--dataframe]\n"
    "                        [--python-path DIR]... [--r-libs DIR]...\n";

int Usage(const char* why) {
  std::fprintf(stderr, "modelgate-worker: %s\n%s", why, kUsage);
  return 64;
}

}  // namespace

int main(int argc, char** argv) {
  using modelgate::worker_host::HostOptions;
  HostOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    std::string v;
    if (arg == "--runtime" && value(&v)) {
      options.runtime = v;
    } else if (arg == "--model-dir" && value(&v)) {
      options.model_dir = v;
    } else if (arg == "--dataframe") {
      options.dataframe = true;
    } else if (arg == "--python-path" && value(&v)) {
      options.python_path.push_back(v);
    } else if (arg == "--r-libs" && value(&v)) {
      options.r_libs.push_back(v);
    } else if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else {
      return Usage(("unknown or incomplete argument '" + arg + "'").c_str());
    }
  }
  if (options.model_dir.empty()) return Usage("--model-dir is required");
  if (char* real = ::realpath(options.model_dir.c_str(), nullptr)) {
    options.model_dir = real;
    std::free(real);
  }
  // Model code opens its files relative to its version directory.
  if (::chdir(options.model_dir.c_str()) != 0) {
    std::fprintf(stderr, "modelgate-worker: cannot enter %s: %s\n", options.model_dir.c_str(),
                 std::strerror(errno));
  }
  std::unique_ptr<modelgate::worker_host::Runtime> runtime;
  if (options.runtime == "r") {
    runtime = modelgate::worker_host::MakeRRuntime();
  } else if (options.runtime == "python") {
    runtime = modelgate::worker_host::MakePythonRuntime();
  } else {
    return Usage("--runtime must be r or python");
  }
  return modelgate::worker_host::Serve(*runtime, options);
}
