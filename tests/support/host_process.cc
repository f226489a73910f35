#include "support/host_process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "support/test_env.h"

namespace modelgate::testing {

namespace wv1 = worker::v1;
namespace fs = std::filesystem;

ScratchModelDir::ScratchModelDir(const std::string& file, const std::string& code) {
  char tmpl[] = "/tmp/mg_host_model_XXXXXX";
  path_ = ::mkdtemp(tmpl);
  if (!code.empty()) std::ofstream(path_ + "/" + file) << code;
}

ScratchModelDir::~ScratchModelDir() { fs::remove_all(path_); }

std::string ScratchModelDir::Sub(const std::string& rel) const {
  fs::create_directories(path_ + "/" + rel);
  return path_ + "/" + rel;
}

HostProcess::HostProcess(const std::string& runtime, const std::string& model_dir,
                         const std::vector<std::string>& extra) {
  int to_host[2], from_host[2];
  EXPECT_EQ(::pipe2(to_host, O_CLOEXEC), 0);
  EXPECT_EQ(::pipe2(from_host, O_CLOEXEC), 0);
  std::vector<std::string> args = {TestRuntime().worker_host, "--runtime", runtime, "--model-dir",
                                   model_dir};
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

HostProcess::~HostProcess() {
  if (in_ >= 0) ::close(in_);  // EOF: the host exits
  if (pid_ > 0) {
    int status = 0;
    for (int i = 0; i < 100 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i) ::usleep(50'000);
    if (::waitpid(pid_, &status, WNOHANG) == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
  }
  ::close(out_);
}

int HostProcess::CloseAndWait() {
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

void HostProcess::Send(const wv1::Frame& frame) {
  std::string bytes;
  ASSERT_TRUE(EncodeFrame(frame, &bytes).ok());
  ASSERT_EQ(::write(in_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
}

std::optional<wv1::Frame> HostProcess::Receive(std::chrono::milliseconds timeout) {
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

wv1::Frame InferFp64(uint64_t id, const std::string& name, const std::vector<double>& values) {
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

bool AwaitMarker(const std::string& path, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (fs::remove(path)) return true;
    ::usleep(2'000);
  }
  return false;
}

void InterruptRequest(pid_t pid, uint64_t id) {
  sigval value{};
  value.sival_ptr = reinterpret_cast<void*>(static_cast<uintptr_t>(id));
  ASSERT_EQ(::sigqueue(pid, SIGINT, value), 0);
}

}  // namespace modelgate::testing
