#include "support/test_env.h"

#include <unistd.h>

#include <cstdlib>

namespace modelgate::testing {

std::string SourceDir() { return MODELGATE_SOURCE_DIR; }
std::string BinaryDir() { return MODELGATE_BINARY_DIR; }

std::string ExampleModelDir(const std::string& model, const std::string& version) {
  return SourceDir() + "/examples/models/" + model + "/" + version;
}

std::string TestModelDir(const std::string& model, const std::string& version) {
  return SourceDir() + "/tests/models/" + model + "/" + version;
}

std::string TestPython() {
  const char* p = std::getenv("MODELGATE_PYTHON");
  if (p && *p) return p;
  return ::access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

RuntimeSettings TestRuntime() {
  RuntimeSettings r;
  const char* host = std::getenv("MODELGATE_WORKER_HOST");
  r.worker_host = host && *host ? host : BinaryDir() + "/modelgate-worker";
  return r;
}

bool RunUntil(boost::asio::io_context& io, const std::function<bool()>& done,
              std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  io.restart();
  // One handler at a time, so the predicate is checked as soon as it can change.
  while (!done() && std::chrono::steady_clock::now() < end) {
    io.run_one_for(std::chrono::milliseconds(20));
    if (io.stopped()) io.restart();
  }
  return done();
}

}  // namespace modelgate::testing

#include <cstdio>

namespace modelgate::testing {

std::string RunCommand(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

}  // namespace modelgate::testing
