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
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "support/host_process.h"

namespace modelgate {
namespace {

namespace wv1 = worker::v1;
namespace fs = std::filesystem;

// A model directory holding model.R, removed at the end of the test.
class ModelDir : public testing::ScratchModelDir {
 public:
  explicit ModelDir(const std::string& model_r) : ScratchModelDir("model.R", model_r) {}
};

// One modelgate-worker --runtime r process and its frame pipes.
class Host : public testing::HostProcess {
 public:
  explicit Host(const std::string& model_dir, const std::vector<std::string>& extra = {})
      : HostProcess("r", model_dir, extra) {}
};

using testing::InterruptRequest;

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

constexpr const char* kSleeper = R"(
predict_fn <- function(inputs) {
  file.create("entered")  # the test may interrupt after this
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

  // This time inside Sys.sleep (R swaps SIGINT's handler there).
  std::filesystem::remove(dir.path() + "/entered");  // requests 7 and 8 made one
  host.Send(InferSeconds(9, 60));
  ASSERT_TRUE(testing::AwaitMarker(dir.path() + "/entered"));
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
      "  file.create(\"entered\")\n"
      "  while (inputs$seconds[1] > 0) i <- i + 1\n"
      "  list(i = i)\n"
      "}\n");
  Host host(dir.path());
  ASSERT_TRUE(host.Receive().has_value());
  for (uint64_t id : {21, 22}) {
    host.Send(InferSeconds(id, 1));
    ASSERT_TRUE(testing::AwaitMarker(dir.path() + "/entered"));  // inside the loop
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
      "  file.create(\"entered\")\n"
      "  while (inputs$seconds[1] > 0) i <- i + 1\n"
      "  list(i = i)\n"
      "}\n");
  Host host(dir.path());
  ASSERT_TRUE(host.Receive().has_value());
  host.Send(InferSeconds(31, 1));
  ASSERT_TRUE(testing::AwaitMarker(dir.path() + "/entered"));  // past the Sys.sleep
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
  for (const char* runtime_frame : {"withCallingHandlers", "mg_", "h(simpleError"})
    EXPECT_EQ(tb.find(runtime_frame), std::string::npos) << "runtime frames left in: " << tb;
}

// The wrapper's handlers are outermost calling handlers: they must see only
// what the model's own handlers declined (an error condition that reaches
// them fails the request even if only signalled, as tryCatch did), and a
// failure must not leak into the next request.
TEST(RHostTest, OnlyConditionsTheModelDidNotHandleFailARequest) {
  ModelDir dir(
      "predict_fn <- function(inputs) {\n"
      "  s <- inputs$seconds\n"
      "  if (s == 1) signalCondition(simpleError(\"signalled, not raised\"))\n"
      "  if (s == 2) return(list(v = tryCatch(stop(\"own\"), error = function(e) \"caught\")))\n"
      "  if (s == 3) invalid_input(\"seconds must not be 3\")\n"
      "  if (s == 4) stop(\"plain error\")\n"
      "  if (s == 5) return(list(v = withRestarts(stop(\"under own abort\"),\n"
      "                                     abort = function() \"restarted\")))\n"
      "  list(v = \"ok\")\n"
      "}\n");
  Host host(dir.path());
  ASSERT_TRUE(host.Receive().has_value());
  auto ask = [&](double seconds) {
    host.Send(InferSeconds(7, seconds));
    auto reply = host.Receive();
    EXPECT_TRUE(reply.has_value());
    return reply.value_or(wv1::Frame{});
  };
  auto value = [](const wv1::Frame& f) {
    return f.has_result() && f.result().outputs_size() == 1 &&
                   f.result().outputs(0).strings_size() == 1
               ? f.result().outputs(0).strings(0)
               : "<no single string: " + f.DebugString() + ">";
  };
  auto signalled = ask(1);
  ASSERT_TRUE(signalled.has_error()) << signalled.DebugString();
  EXPECT_EQ(signalled.error().message(), "signalled, not raised");
  EXPECT_EQ(value(ask(2)), "caught");
  auto invalid = ask(3);
  ASSERT_TRUE(invalid.has_error()) << invalid.DebugString();
  EXPECT_EQ(invalid.error().message(), "seconds must not be 3");
  EXPECT_TRUE(invalid.error().invalid_input());
  EXPECT_EQ(value(ask(0)), "ok");
  auto error = ask(4);
  ASSERT_TRUE(error.has_error()) << error.DebugString();
  EXPECT_EQ(error.error().message(), "plain error");
  EXPECT_FALSE(error.error().invalid_input());
  EXPECT_EQ(value(ask(0)), "ok");
  // The wrapper leaves through R's top-level abort, not the model's own.
  auto own_abort = ask(5);
  ASSERT_TRUE(own_abort.has_error()) << own_abort.DebugString();
  EXPECT_EQ(own_abort.error().message(), "under own abort");
  EXPECT_EQ(value(ask(0)), "ok");
}

// The wrapper's handler runs at the depth of the error, where a runaway
// recursion leaves it no room: the request still gets R's own message for
// it (not an earlier request's), and the model stays.
TEST(RHostTest, ARunawayRecursionGetsRsOwnMessageAndTheModelStays) {
  ModelDir dir(
      "down <- function(n) down(n + 1)\n"
      "predict_fn <- function(inputs) {\n"
      "  if (inputs$seconds == 1) down(0)\n"
      "  if (inputs$seconds == 2) invokeRestart(\"abort\")\n"
      "  list(v = \"ok\")\n"
      "}\n");
  Host host(dir.path());
  ASSERT_TRUE(host.Receive().has_value());
  host.Send(InferSeconds(1, 1));
  auto reply = host.Receive();
  ASSERT_TRUE(reply.has_value() && reply->has_error()) << (reply ? reply->DebugString() : "");
  const std::string& message = reply->error().message();
  EXPECT_TRUE(message.find("nested too deeply") != std::string::npos ||
              message.find("C stack") != std::string::npos)
      << message;
  host.Send(InferSeconds(2, 0));
  reply = host.Receive();
  ASSERT_TRUE(reply.has_value() && reply->has_result()) << (reply ? reply->DebugString() : "");
  // A failure the handler records leaves R's message buffer alone: the
  // runaway's message must not reappear for a model that leaves its request
  // some other way.
  host.Send(InferSeconds(3, 2));
  reply = host.Receive();
  ASSERT_TRUE(reply.has_value() && reply->has_error()) << (reply ? reply->DebugString() : "");
  EXPECT_EQ(reply->error().message(),
            "the R runtime's request wrapper failed (see the model's log)");
}

// R arrays go back row-major (dims transposed back) for every type, and an
// NA is reported at its row-major position.
TEST(RHostTest, ArrayOutputsAreSentRowMajor) {
  ModelDir dir(
      "predict_fn <- function(inputs) {\n"
      "  if (inputs$seconds == 1) return(list(na = matrix(c(1L, NA, 3L, 4L), 2, 2)))\n"
      "  list(i = array(1:24, dim = c(2, 3, 4)), s = matrix(letters[1:6], 2, 3),\n"
      "       b = matrix(c(TRUE, FALSE, FALSE, FALSE), 2, 2))\n"
      "}\n");
  Host host(dir.path());
  ASSERT_TRUE(host.Receive().has_value());
  host.Send(InferSeconds(1, 0));
  auto reply = host.Receive();
  ASSERT_TRUE(reply.has_value() && reply->has_result()) << (reply ? reply->DebugString() : "");
  const wv1::Result& r = reply->result();
  ASSERT_EQ(r.outputs_size(), 3);
  // R's element [a, b, c] is 1 + a + 2b + 6c; row-major walks c fastest.
  std::vector<int32_t> expected;
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 3; ++b)
      for (int c = 0; c < 4; ++c) expected.push_back(1 + a + 2 * b + 6 * c);
  std::vector<int32_t> got(r.outputs(0).raw().size() / 4);
  std::memcpy(got.data(), r.outputs(0).raw().data(), got.size() * 4);
  EXPECT_EQ(got, expected);
  EXPECT_EQ(std::vector<std::string>(r.outputs(1).strings().begin(), r.outputs(1).strings().end()),
            (std::vector<std::string>{"a", "c", "e", "b", "d", "f"}));
  EXPECT_EQ(r.outputs(2).raw(), std::string("\x01\x00\x00\x00", 4));
  host.Send(InferSeconds(2, 1));
  reply = host.Receive();
  ASSERT_TRUE(reply.has_value() && reply->has_error()) << (reply ? reply->DebugString() : "");
  EXPECT_EQ(reply->error().message(),
            "output 'na': element 2 is NA, which INT32 cannot carry; return a double (NA_real_) "
            "to send NA");
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
