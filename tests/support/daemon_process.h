// Runs the real modelgate binary on free loopback ports for C++ tests.
#pragma once

#include <sys/types.h>

#include <string>

namespace modelgate::testing {

class DaemonProcess {
 public:
  // Starts `build/modelgate` on `repository` with free ports.
  explicit DaemonProcess(const std::string& repository);
  ~DaemonProcess();

  // Polls gRPC ServerReady until true; false after `seconds`.
  bool WaitReady(int seconds = 120);
  // SIGTERM and wait; returns the exit code (-1 if killed by a signal).
  int Stop();

  int http_port() const { return http_port_; }
  int grpc_port() const { return grpc_port_; }
  std::string grpc_target() const { return "127.0.0.1:" + std::to_string(grpc_port_); }
  std::string log() const;

 private:
  pid_t pid_ = -1;
  int http_port_ = 0, grpc_port_ = 0, metrics_port_ = 0;
  std::string log_path_;
};

int FreePort();

}  // namespace modelgate::testing
