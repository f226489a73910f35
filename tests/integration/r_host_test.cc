// The embedded R runtime of modelgate-worker, driven directly over its frame
// pipes (fds 3/4) with real R: interrupts that keep the model loaded,
// tracebacks with file and line, per-model r_libs.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
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
  return host != nullptr ? host : MODELGATE_WORKER_HOST_BINARY;
}

// A model directory holding model.R, removed at the end of the test.
class ModelDir {
 public:
  explicit ModelDir(const std::string& model_r) {
    char tmpl[] = "/tmp/mg_r_host_XXXXXX";
    path_ = ::mkdtemp(tmpl);
    std::ofstream(path_ + "/model.R") << model_r;
  }
  ~ModelDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// One modelgate-worker --runtime r process and its frame pipes.
class Host {
 public:
  explicit Host(const std::string& model_dir, const std::vector<std::string>& extra = {}) {
    int to_host[2], from_host[2];
    EXPECT_EQ(::pipe2(to_host, O_CLOEXEC), 0);
    EXPECT_EQ(::pipe2(from_host, O_CLOEXEC), 0);
    std::vector<std::string> args = {HostPath(), "--runtime", "r", "--model-dir", model_dir};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      // Above 4 first, so dup2 never meets its own fd (and keeps CLOEXEC).
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
    ::close(in_);  // EOF: the host exits 0
    int status = 0;
    for (int i = 0; i < 100 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i) ::usleep(50'000);
    if (::waitpid(pid_, &status, WNOHANG) == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
    ::close(out_);
  }

  pid_t pid() const { return pid_; }

  void Send(const wv1::Frame& frame) {
    std::string bytes;
    ASSERT_TRUE(EncodeFrame(frame, &bytes).ok());
    ASSERT_EQ(::write(in_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }

  // The next frame, or nullopt after `timeout` or EOF.
  std::optional<wv1::Frame> Receive(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
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

wv1::Frame InferSeconds(uint64_t id, double seconds) {
  wv1::Frame frame;
  frame.set_id(id);
  wv1::Tensor* t = frame.mutable_infer()->add_inputs();
  t->set_name("seconds");
  t->set_datatype("FP64");
  t->add_shape(1);
  t->set_raw(std::string(reinterpret_cast<const char*>(&seconds), sizeof seconds));
  return frame;
}

// The daemon's interrupt: SIGINT naming the running request.
void InterruptRequest(pid_t pid, uint64_t id) {
  sigval value{};
  value.sival_ptr = reinterpret_cast<void*>(static_cast<uintptr_t>(id));
  ASSERT_EQ(::sigqueue(pid, SIGINT, value), 0);
}

constexpr const char* kSleeper = R"(
predict_fn <- function(inputs) {
  Sys.sleep(inputs$seconds[1])
  list(slept = inputs$seconds)
}
)";

TEST(RHostTest, InterruptStopsTheRequestAndTheModelStaysLoaded) {
  ModelDir dir(kSleeper);
  Host host(dir.path());
  auto hello = host.Receive();
  ASSERT_TRUE(hello.has_value());
  ASSERT_TRUE(hello->has_hello()) << hello->DebugString();
  EXPECT_EQ(hello->hello().runtime(), "r");
  EXPECT_EQ(hello->hello().runtime_version().rfind("R version ", 0), 0u);

  host.Send(InferSeconds(7, 60));
  // A signal naming the request: delivered as soon as the request runs.
  InterruptRequest(host.pid(), 7);
  auto interrupted = host.Receive();
  ASSERT_TRUE(interrupted.has_value());
  EXPECT_EQ(interrupted->id(), 7u);
  ASSERT_TRUE(interrupted->has_error()) << interrupted->DebugString();
  EXPECT_NE(interrupted->error().message().find("interrupted"), std::string::npos);
  EXPECT_FALSE(interrupted->error().invalid_input());

  // Same process, model still loaded; a signal naming another request is
  // ignored, a second interrupt works again.
  InterruptRequest(host.pid(), 7);
  host.Send(InferSeconds(8, 0.01));
  auto next = host.Receive();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->id(), 8u);
  ASSERT_TRUE(next->has_result()) << next->DebugString();
  EXPECT_EQ(next->result().outputs(0).name(), "slept");

  // This time most likely inside Sys.sleep (R swaps SIGINT's handler there).
  host.Send(InferSeconds(9, 60));
  ::usleep(300'000);
  InterruptRequest(host.pid(), 9);
  auto again = host.Receive();
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->id(), 9u);
  ASSERT_TRUE(again->has_error());
  EXPECT_NE(again->error().message().find("interrupted"), std::string::npos)
      << again->DebugString();
  EXPECT_EQ(::kill(host.pid(), 0), 0);
}

TEST(RHostTest, InterruptStopsABusyRLoopTwice) {
  ModelDir dir(
      "predict_fn <- function(inputs) {\n"
      "  i <- 0\n"
      "  while (inputs$seconds[1] > 0) i <- i + 1\n"
      "  list(i = i)\n"
      "}\n");
  Host host(dir.path());
  ASSERT_TRUE(host.Receive().has_value());
  for (uint64_t id : {21, 22}) {
    host.Send(InferSeconds(id, 1));
    ::usleep(300'000);  // let the loop start; a signal queued earlier works too
    InterruptRequest(host.pid(), id);
    auto reply = host.Receive();
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->id(), id);
    ASSERT_TRUE(reply->has_error()) << reply->DebugString();
    EXPECT_EQ(reply->error().message(), "interrupted: the request passed its deadline");
  }
  host.Send(InferSeconds(23, 0));
  auto done = host.Receive();
  ASSERT_TRUE(done.has_value());
  EXPECT_TRUE(done->has_result()) << done->DebugString();
}

// Sys.sleep swaps SIGINT's handler while it waits and puts it back without
// SA_SIGINFO: the host must still read the request id afterwards.
TEST(RHostTest, InterruptAfterASysSleepStillNamesTheRequest) {
  ModelDir dir(
      "predict_fn <- function(inputs) {\n"
      "  Sys.sleep(0.01)\n"
      "  i <- 0\n"
      "  while (inputs$seconds[1] > 0) i <- i + 1\n"
      "  list(i = i)\n"
      "}\n");
  Host host(dir.path());
  ASSERT_TRUE(host.Receive().has_value());
  host.Send(InferSeconds(31, 1));
  ::usleep(300'000);  // past the Sys.sleep, inside the loop
  InterruptRequest(host.pid(), 31);
  auto reply = host.Receive(std::chrono::seconds(10));
  ASSERT_TRUE(reply.has_value()) << "the interrupt was lost";
  ASSERT_TRUE(reply->has_error()) << reply->DebugString();
  EXPECT_EQ(reply->error().message(), "interrupted: the request passed its deadline");
}

TEST(RHostTest, ErrorsCarryTheModelsCallStackWithFileAndLine) {
  ModelDir dir(
      "inner <- function(x) {\n"            // 1
      "  stop(\"boom: \", x)\n"             // 2
      "}\n"                                 // 3
      "predict_fn <- function(inputs) {\n"  // 4
      "  y <- inputs$seconds * 2\n"         // 5
      "  inner(y)\n"                        // 6
      "}\n");
  Host host(dir.path());
  ASSERT_TRUE(host.Receive().has_value());
  host.Send(InferSeconds(3, 1.5));
  auto reply = host.Receive();
  ASSERT_TRUE(reply.has_value());
  ASSERT_TRUE(reply->has_error()) << reply->DebugString();
  EXPECT_EQ(reply->error().message(), "boom: 3");
  const std::string& tb = reply->error().traceback();
  EXPECT_NE(tb.find("inner(y) at model.R#6"), std::string::npos) << tb;
  EXPECT_NE(tb.find("stop(\"boom: \", x) at model.R#2"), std::string::npos) << tb;
  EXPECT_LT(tb.find("stop("), tb.find("inner(y)")) << "innermost call first: " << tb;
  EXPECT_EQ(tb.find("tryCatch"), std::string::npos) << "runtime frames left in: " << tb;
}

TEST(RHostTest, RLibsArePrependedToLibPaths) {
  ModelDir dir("predict_fn <- function(inputs) list(lib = .libPaths()[1])\n");
  ModelDir lib("");
  Host host(dir.path(), {"--r-libs", lib.path()});
  auto hello = host.Receive();
  ASSERT_TRUE(hello.has_value() && hello->has_hello()) << (hello ? hello->DebugString() : "");
  host.Send(InferSeconds(1, 0));
  auto reply = host.Receive();
  ASSERT_TRUE(reply.has_value() && reply->has_result()) << (reply ? reply->DebugString() : "");
  ASSERT_EQ(reply->result().outputs(0).strings_size(), 1);
  EXPECT_EQ(fs::canonical(reply->result().outputs(0).strings(0)), fs::canonical(lib.path()));
}

TEST(RHostTest, MissingRLibsDirectoryFailsTheLoadNamingIt) {
  ModelDir dir("predict_fn <- function(inputs) inputs\n");
  Host host(dir.path(), {"--r-libs", "/nonexistent/mg-r-libs"});
  auto reply = host.Receive();
  ASSERT_TRUE(reply.has_value());
  ASSERT_TRUE(reply->has_error()) << reply->DebugString();
  EXPECT_EQ(reply->error().message(),
            "model load failed: r_libs entry '/nonexistent/mg-r-libs' is not an existing "
            "directory");
}

}  // namespace
}  // namespace modelgate
