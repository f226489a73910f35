// modelgate-worker driven directly over its frame pipes (fds 3/4), for the
// tests of the embedded runtimes (py_host_test.cc, r_host_test.cc).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backend/ipc/frame_codec.h"

namespace modelgate::testing {

// A temporary model directory holding one code file (model.py or model.R),
// removed at the end of the test.
class ScratchModelDir {
 public:
  ScratchModelDir(const std::string& file, const std::string& code);
  ~ScratchModelDir();
  ScratchModelDir(const ScratchModelDir&) = delete;
  ScratchModelDir& operator=(const ScratchModelDir&) = delete;

  const std::string& path() const { return path_; }
  // Creates path()/rel (and its parents) and returns it.
  std::string Sub(const std::string& rel) const;

 private:
  std::string path_;
};

// One `modelgate-worker --runtime RUNTIME --model-dir DIR EXTRA...` process
// (the host TestRuntime() names) and its frame pipes. The destructor closes
// its input (the daemon's EOF) and reaps it, killing it after 5 s.
class HostProcess {
 public:
  HostProcess(const std::string& runtime, const std::string& model_dir,
              const std::vector<std::string>& extra = {});
  ~HostProcess();
  HostProcess(const HostProcess&) = delete;
  HostProcess& operator=(const HostProcess&) = delete;

  pid_t pid() const { return pid_; }
  void Send(const worker::v1::Frame& frame);
  // The next frame, or nullopt after `timeout`, at EOF or on a bad frame.
  std::optional<worker::v1::Frame> Receive(
      std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Closes the input and returns the wait status once the host exits; -1
  // if it is still running after 10 s.
  int CloseAndWait();

 private:
  pid_t pid_ = -1;
  int in_ = -1;
  int out_ = -1;
  FrameDecoder decoder_;
};

// An Infer frame with one FP64 input of shape [values.size()].
worker::v1::Frame InferFp64(uint64_t id, const std::string& name,
                            const std::vector<double>& values);

// Waits (polling, at most `timeout`) until the model has created `path` to
// say where it is, then removes it; false if it never came. Orders a test's
// next step after the model's, without sleeping.
bool AwaitMarker(const std::string& path,
                 std::chrono::milliseconds timeout = std::chrono::seconds(20));

// The daemon's interrupt: SIGINT naming the running request (sigqueue).
void InterruptRequest(pid_t pid, uint64_t id);

}  // namespace modelgate::testing
