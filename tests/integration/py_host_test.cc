// The embedded Python runtime of modelgate-worker, driven directly over its
// frame pipes (fds 3/4) with real CPython: interrupts that keep the model
// loaded, input arrays that wrap the received bytes and outlive their
// request, per-model python_path validation.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "backend/ipc/frame_codec.h"

namespace modelgate {
namespace {

namespace wv1 = worker::v1;
namespace fs = std::filesystem;

std::string HostPath() {
  const char* host = std::getenv("MODELGATE_WORKER_HOST");
  return host != nullptr ? host : MODELGATE_PY_HOST_BINARY;
}

// A temporary directory holding model.py (and whatever a test adds).
class ModelDir {
 public:
  explicit ModelDir(const std::string& model_py) {
    char tmpl[] = "/tmp/mg_py_host_XXXXXX";
    path_ = ::mkdtemp(tmpl);
    if (!model_py.empty()) std::ofstream(path_ + "/model.py") << model_py;
  }
  ~ModelDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& rel) const {
    fs::create_directories(path_ + "/" + rel);
    return path_ + "/" + rel;
  }

 private:
  std::string path_;
};

// One modelgate-worker --runtime python process and its frame pipes.
class Host {
 public:
  explicit Host(const std::string& model_dir, const std::vector<std::string>& extra = {}) {
    int to_host[2], from_host[2];
    EXPECT_EQ(::pipe2(to_host, O_CLOEXEC), 0);
    EXPECT_EQ(::pipe2(from_host, O_CLOEXEC), 0);
    std::vector<std::string> args = {HostPath(), "--runtime", "python", "--model-dir", model_dir};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      // Above 4 first, so dup2 never meets its own fd.
      const int in = ::fcntl(to_host[0], F_DUPFD_CLOEXEC, 10);
      const int out = ::fcntl(from_host[1], F_DUPFD_CLOEXEC, 10);
      ::dup2(in, 3);
      ::dup2(out, 4);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(to_host[0]);
    ::close(from_host[1]);
    in_ = to_host[1];
    out_ = from_host[0];
  }
  ~Host() {
    if (pid_ < 0) {
      ::close(out_);
      return;
    }
    ::close(in_);  // EOF: the host exits
    int status = 0;
    for (int i = 0; i < 100 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i) ::usleep(50'000);
    if (::waitpid(pid_, &status, WNOHANG) == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
    ::close(out_);
  }

  pid_t pid() const { return pid_; }

  // Closes the host's input (the daemon's EOF) and returns its wait status
  // once it exits; -1 if it is still running after 10 s.
  int CloseAndWait() {
    ::close(in_);
    in_ = -1;
    int status = 0;
    for (int i = 0; i < 200; ++i) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return status;
      }
      ::usleep(50'000);
    }
    return -1;
  }

  void Send(const wv1::Frame& frame) {
    std::string bytes;
    ASSERT_TRUE(EncodeFrame(frame, &bytes).ok());
    ASSERT_EQ(::write(in_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }

  // The next frame, or nullopt after `timeout` or EOF.
  std::optional<wv1::Frame> Receive(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    for (int round = 0; round < 10000; ++round) {
      wv1::Frame frame;
      Status error;
      const auto next = decoder_.Next(&frame, &error);
      if (next == FrameDecoder::Result::kFrame) return frame;
      if (next == FrameDecoder::Result::kError) return std::nullopt;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
      char buf[65536];
      const ssize_t n = ::read(out_, buf, sizeof buf);
      if (n <= 0) return std::nullopt;
      decoder_.Append(buf, static_cast<size_t>(n));
    }
    return std::nullopt;
  }

 private:
  pid_t pid_ = -1;
  int in_ = -1;
  int out_ = -1;
  FrameDecoder decoder_;
};

wv1::Frame InferFp64(uint64_t id, const std::string& name, std::vector<double> values) {
  wv1::Frame frame;
  frame.set_id(id);
  wv1::Tensor* t = frame.mutable_infer()->add_inputs();
  t->set_name(name);
  t->set_datatype("FP64");
  t->add_shape(static_cast<int64_t>(values.size()));
  t->set_raw(
      std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(double)));
  return frame;
}

std::vector<double> Fp64(const wv1::Tensor& t) {
  std::vector<double> v(t.raw().size() / sizeof(double));
  std::memcpy(v.data(), t.raw().data(), v.size() * sizeof(double));
  return v;
}

// The daemon's interrupt: SIGINT naming the running request.
void InterruptRequest(pid_t pid, uint64_t id) {
  sigval value{};
  value.sival_ptr = reinterpret_cast<void*>(static_cast<uintptr_t>(id));
  ASSERT_EQ(::sigqueue(pid, SIGINT, value), 0);
}

constexpr const char* kSleeper = R"(
import socket
import time


class Model:
    def __init__(self, model_dir):
        pass

    def predict(self, inputs):
        seconds = float(inputs["seconds"][0])
        if seconds == -1:
            while True:  # a busy loop in bytecode
                pass
        if seconds == -2:
            a, b = socket.socketpair()
            a.recv(1)  # blocked in a system call: only EINTR wakes it
        if seconds == -3:
            raise KeyboardInterrupt("raised by the model")
        time.sleep(seconds)
        return {"slept": inputs["seconds"]}
)";

TEST(PyHostTest, InterruptStopsSleepAndBusyLoopAndTheModelStaysLoaded) {
  ModelDir dir(kSleeper);
  Host host(dir.path());
  auto hello = host.Receive();
  ASSERT_TRUE(hello.has_value());
  ASSERT_TRUE(hello->has_hello()) << hello->DebugString();
  EXPECT_EQ(hello->hello().runtime(), "python");
  EXPECT_EQ(hello->hello().runtime_version().rfind("Python 3.", 0), 0u);
  EXPECT_NE(hello->hello().runtime_version().find(", numpy "), std::string::npos);

  uint64_t id = 7;
  for (double seconds : {60.0, -1.0, -2.0, 60.0}) {
    host.Send(InferFp64(id, "seconds", {seconds}));
    ::usleep(300'000);  // most likely inside time.sleep / the loop by now
    InterruptRequest(host.pid(), id);
    auto interrupted = host.Receive();
    ASSERT_TRUE(interrupted.has_value()) << "request " << id;
    EXPECT_EQ(interrupted->id(), id);
    ASSERT_TRUE(interrupted->has_error()) << interrupted->DebugString();
    EXPECT_EQ(interrupted->error().message(),
              "KeyboardInterrupt: the request was interrupted at its deadline");
    EXPECT_FALSE(interrupted->error().invalid_input());
    ++id;
  }
  // A KeyboardInterrupt the model raises itself is its own error.
  host.Send(InferFp64(id, "seconds", {-3.0}));
  auto own = host.Receive();
  ASSERT_TRUE(own.has_value());
  ASSERT_TRUE(own->has_error()) << own->DebugString();
  EXPECT_EQ(own->error().message(), "KeyboardInterrupt: raised by the model");
  ++id;
  // A late interrupt naming a finished request reaches no one; the same
  // process answers the next request.
  InterruptRequest(host.pid(), 7);
  host.Send(InferFp64(100, "seconds", {0.01}));
  auto next = host.Receive();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->id(), 100u);
  ASSERT_TRUE(next->has_result()) << next->DebugString();
  EXPECT_EQ(Fp64(next->result().outputs(0)), std::vector<double>{0.01});
  // EOF ends the worker cleanly (exit 0, no abort in the interpreter).
  const int status = host.CloseAndWait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status;
}

TEST(PyHostTest, InputArraysWrapTheReceivedBytesAndOutliveTheirRequest) {
  ModelDir dir(R"(
class Model:
    def __init__(self, model_dir):
        self.kept = []

    def predict(self, inputs):
        x = inputs["x"]
        self.kept.append(x)
        total = sum(float(k.sum()) for k in self.kept)
        return {"total": [total], "base": [type(x.base).__name__],
                "writeable": [bool(x.flags.writeable)], "first": self.kept[0]}
)");
  Host host(dir.path());
  ASSERT_TRUE(host.Receive().has_value());
  host.Send(InferFp64(1, "x", {1.5, 2.5}));
  auto first = host.Receive();
  ASSERT_TRUE(first.has_value() && first->has_result()) << first->DebugString();
  host.Send(InferFp64(2, "x", {10, 20, 30}));
  auto second = host.Receive();
  ASSERT_TRUE(second.has_value() && second->has_result()) << second->DebugString();
  const auto& out = second->result().outputs();
  ASSERT_EQ(out.size(), 4);
  EXPECT_EQ(Fp64(out[0]), std::vector<double>{64});
  EXPECT_EQ(out[1].datatype(), "BYTES");
  EXPECT_EQ(out[1].strings(0), "PyCapsule");  // no copy: the array's base owns the bytes
  EXPECT_EQ(out[2].datatype(), "BOOL");
  EXPECT_EQ(out[2].raw(), std::string(1, '\0'));             // read-only, as numpy.frombuffer was
  EXPECT_EQ(Fp64(out[3]), (std::vector<double>{1.5, 2.5}));  // request 1's bytes, still intact
}

std::string LoadError(const std::string& model_dir, const std::vector<std::string>& extra) {
  Host host(model_dir, extra);
  auto frame = host.Receive();
  if (!frame.has_value()) return "<no frame>";
  if (!frame->has_error()) return "<not an error: " + frame->DebugString() + ">";
  return frame->error().message();
}

TEST(PyHostTest, PythonPathEntriesGoAfterTheModelDirInOrder) {
  ModelDir deps("");
  std::ofstream(deps.Sub("a") + "/helper_a.py") << "WHO = 'a'\n";
  std::ofstream(deps.Sub("b") + "/helper_a.py") << "WHO = 'b'\n";
  ModelDir dir(R"(
import sys
import helper_a


class Model:
    def __init__(self, model_dir):
        self.path = [p for p in sys.path[:3]]

    def predict(self, inputs):
        return {"who": [helper_a.WHO], "path": self.path}
)");
  Host host(dir.path(), {"--python-path", deps.path() + "/a", "--python-path", deps.path() + "/b"});
  auto hello = host.Receive();
  ASSERT_TRUE(hello.has_value() && hello->has_hello()) << hello->DebugString();
  host.Send(InferFp64(1, "x", {1}));
  auto reply = host.Receive();
  ASSERT_TRUE(reply.has_value() && reply->has_result()) << reply->DebugString();
  EXPECT_EQ(reply->result().outputs(0).strings(0), "a");
  const auto& path = reply->result().outputs(1).strings();
  ASSERT_EQ(path.size(), 3);
  EXPECT_EQ(path[0], fs::canonical(dir.path()).string());
  EXPECT_EQ(path[1], deps.path() + "/a");
  EXPECT_EQ(path[2], deps.path() + "/b");
}

TEST(PyHostTest, ABadPythonPathFailsTheLoadNamingTheEntry) {
  ModelDir dir("class Model:\n    def __init__(self, d):\n        pass\n");
  const std::string missing = dir.path() + "/no_such_dir";
  EXPECT_EQ(LoadError(dir.path(), {"--python-path", missing}),
            "model load failed: python_path entry '" + missing + "' is not an existing directory");

  const std::string old_site = dir.Sub("venv/lib/python3.2/site-packages");
  const std::string error = LoadError(dir.path(), {"--python-path", old_site});
  EXPECT_EQ(error.rfind("model load failed: python_path entry '" + old_site + "'", 0), 0u) << error;
  EXPECT_NE(error.find("Python 3.2 (its path has lib/python3.2/)"), std::string::npos) << error;
}

}  // namespace
}  // namespace modelgate
