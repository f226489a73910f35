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
#include <cmath>
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

// A temporary directory holding model.py (and whatever a test adds).
class ModelDir : public testing::ScratchModelDir {
 public:
  explicit ModelDir(const std::string& model_py) : ScratchModelDir("model.py", model_py) {}
};

// One modelgate-worker --runtime python process and its frame pipes.
class Host : public testing::HostProcess {
 public:
  explicit Host(const std::string& model_dir, const std::vector<std::string>& extra = {})
      : HostProcess("python", model_dir, extra) {}
};

using testing::InferFp64;
using testing::InterruptRequest;

std::vector<double> Fp64(const wv1::Tensor& t) {
  std::vector<double> v(t.raw().size() / sizeof(double));
  std::memcpy(v.data(), t.raw().data(), v.size() * sizeof(double));
  return v;
}

constexpr const char* kSleeper = R"(
import socket
import time


class Model:
    def __init__(self, model_dir):
        pass

    def predict(self, inputs):
        seconds = float(inputs["seconds"][0])
        open("entered", "w").close()  # the test interrupts after this
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
    ASSERT_TRUE(testing::AwaitMarker(dir.path() + "/entered")) << "request " << id;
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

// Shapes the daemon never forwards (it validates first) still get an
// InvalidInput naming the input from the host, and the model stays loaded.
TEST(PyHostTest, ShapesNumpyCannotHoldAreInvalidInputsNamingTheInput) {
  ModelDir dir(
      "class Model:\n"
      "    def __init__(self, model_dir):\n"
      "        pass\n"
      "\n"
      "    def predict(self, inputs):\n"
      "        return {\"y\": inputs[\"x\"]}\n");
  Host host(dir.path());
  ASSERT_TRUE(host.Receive().has_value());
  struct Case {
    std::vector<int64_t> shape;
    size_t bytes;
    const char* says;
  };
  const std::vector<Case> cases = {
      {{-1}, 8, "input 'x': shape [-1] has a negative dimension"},
      // More than numpy 1.x's 32 and numpy 2's 64.
      {std::vector<int64_t>(65, 1), 8, "input 'x': shape of rank 65 has 65 dimensions"},
      {{1LL << 40, 1LL << 40, 0},
       8,
       "input 'x': shape [1099511627776, 1099511627776, 0] needs 0 "
       "elements, got 1"},
      {{1LL << 40, 1LL << 40}, 8, "has more elements than an int64 can count"},
      {{1}, 7, "input 'x': 7 bytes of FP64 is not a whole number of 8-byte elements"},
  };
  uint64_t id = 1;
  for (const Case& c : cases) {
    wv1::Frame frame;
    frame.set_id(id++);
    wv1::Tensor* t = frame.mutable_infer()->add_inputs();
    t->set_name("x");
    t->set_datatype("FP64");
    for (int64_t d : c.shape) t->add_shape(d);
    t->set_raw(std::string(c.bytes, '\0'));
    host.Send(frame);
    auto reply = host.Receive();
    ASSERT_TRUE(reply.has_value());
    ASSERT_TRUE(reply->has_error()) << reply->DebugString();
    EXPECT_TRUE(reply->error().invalid_input()) << reply->DebugString();
    EXPECT_NE(reply->error().message().find(c.says), std::string::npos) << reply->DebugString();
  }
  host.Send(InferFp64(id, "x", {2.5}));
  auto reply = host.Receive();
  ASSERT_TRUE(reply.has_value() && reply->has_result()) << (reply ? reply->DebugString() : "");
  EXPECT_EQ(Fp64(reply->result().outputs(0)), std::vector<double>{2.5});
}

// pandas nullable columns go out as their numpy dtype: a missing float as
// NaN, a missing integer or bool as an error naming the output and element.
TEST(PyHostTest, PandasNullableOutputsKeepTheirNumericDatatype) {
  ModelDir dir(
      "import pandas as pd\n"
      "\n"
      "class Model:\n"
      "    def __init__(self, model_dir):\n"
      "        pass\n"
      "\n"
      "    def predict(self, inputs):\n"
      "        if float(inputs[\"x\"][0]) == 1:\n"
      "            return {\"b\": pd.Series([True, True, None], dtype=\"boolean\")}\n"
      "        if float(inputs[\"x\"][0]) == 2:\n"
      "            return {\"ints\": pd.DataFrame({\"p\": pd.array([1, 2], dtype=\"Int64\"),\n"
      "                                           \"q\": pd.array([3, 4], dtype=\"Int64\")}),\n"
      "                    \"mixed\": pd.DataFrame({\"i\": pd.array([1, 2], dtype=\"Int64\"),\n"
      "                                            \"f\": pd.array([0.5, None], "
      "dtype=\"Float64\")})}\n"
      "        if float(inputs[\"x\"][0]) == 4:\n"
      "            return {\"bad\": pd.DataFrame({\"t\": pd.to_datetime([\"2020-01-01\"]),\n"
      "                                          \"n\": pd.array([1], dtype=\"Int64\")})}\n"
      "        if float(inputs[\"x\"][0]) == 3:\n"
      "            return {\"d\": pd.DataFrame({\"ok\": pd.array([1, 2], dtype=\"Int64\"),\n"
      "                                        \"gap\": pd.array([5, None], dtype=\"Int64\")})}\n"
      "        return {\"i\": pd.Series([1, 2, 3], dtype=\"Int64\"),\n"
      "                \"f\": pd.Series([1.5, None], dtype=\"Float64\"),\n"
      "                \"a\": pd.array([True, False], dtype=\"boolean\")}\n");
  Host host(dir.path());
  ASSERT_TRUE(host.Receive().has_value());
  host.Send(InferFp64(1, "x", {0}));
  auto reply = host.Receive();
  ASSERT_TRUE(reply.has_value() && reply->has_result()) << (reply ? reply->DebugString() : "");
  const wv1::Result& r = reply->result();
  ASSERT_EQ(r.outputs_size(), 3);
  EXPECT_EQ(r.outputs(0).datatype(), "INT64");
  std::vector<int64_t> ints(r.outputs(0).raw().size() / 8);
  std::memcpy(ints.data(), r.outputs(0).raw().data(), ints.size() * 8);
  EXPECT_EQ(ints, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(r.outputs(1).datatype(), "FP64");
  const std::vector<double> floats = Fp64(r.outputs(1));
  ASSERT_EQ(floats.size(), 2u);
  EXPECT_EQ(floats[0], 1.5);
  EXPECT_TRUE(std::isnan(floats[1]));
  EXPECT_EQ(r.outputs(2).datatype(), "BOOL");
  EXPECT_EQ(r.outputs(2).raw(), std::string("\x01\x00", 2));
  host.Send(InferFp64(2, "x", {1}));
  reply = host.Receive();
  ASSERT_TRUE(reply.has_value() && reply->has_error()) << (reply ? reply->DebugString() : "");
  EXPECT_NE(reply->error().message().find("output 'b': element 2 is missing (pd.NA in a pandas "
                                          "boolean column), which bool cannot carry"),
            std::string::npos)
      << reply->error().message();
  // A DataFrame of nullable columns: [rows, columns], numpy's promotion.
  host.Send(InferFp64(3, "x", {2}));
  reply = host.Receive();
  ASSERT_TRUE(reply.has_value() && reply->has_result()) << (reply ? reply->DebugString() : "");
  const wv1::Result& frames = reply->result();
  ASSERT_EQ(frames.outputs_size(), 2);
  const wv1::Tensor& whole = frames.outputs(0);
  EXPECT_EQ(whole.datatype(), "INT64");
  EXPECT_EQ(std::vector<int64_t>(whole.shape().begin(), whole.shape().end()),
            (std::vector<int64_t>{2, 2}));
  std::vector<int64_t> cells(whole.raw().size() / 8);
  std::memcpy(cells.data(), whole.raw().data(), cells.size() * 8);
  EXPECT_EQ(cells, (std::vector<int64_t>{1, 3, 2, 4}));  // row-major
  EXPECT_EQ(frames.outputs(1).datatype(), "FP64");
  const std::vector<double> mixed = Fp64(frames.outputs(1));
  ASSERT_EQ(mixed.size(), 4u);
  EXPECT_EQ(mixed[0], 1.0);
  EXPECT_EQ(mixed[1], 0.5);
  EXPECT_EQ(mixed[2], 2.0);
  EXPECT_TRUE(std::isnan(mixed[3]));
  host.Send(InferFp64(4, "x", {3}));
  reply = host.Receive();
  ASSERT_TRUE(reply.has_value() && reply->has_error()) << (reply ? reply->DebugString() : "");
  EXPECT_NE(reply->error().message().find("output 'd' column 'gap': element 1 is missing (pd.NA "
                                          "in a pandas Int64 column), which int64 cannot carry"),
            std::string::npos)
      << reply->error().message();
  // Columns numpy cannot put in one array: its reason, with the output named.
  host.Send(InferFp64(5, "x", {4}));
  reply = host.Receive();
  ASSERT_TRUE(reply.has_value() && reply->has_error()) << (reply ? reply->DebugString() : "");
  EXPECT_NE(reply->error().message().find("output 'bad': its columns cannot form one array: "),
            std::string::npos)
      << reply->error().message();
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
