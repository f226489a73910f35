// modelgate-worker as a program: its command line, the frame limit it takes
// from the daemon (MODELGATE_MAX_FRAME_BYTES, set by WorkerCommand; the
// built-in 64 MiB only when absent) and how it ends. The frames themselves
// are covered by worker_test.cc and the conformance cases.
#include <gtest/gtest.h>

#include <string>

#include "common/limits.h"
#include "support/test_env.h"

namespace modelgate::testing {
namespace {

// Runs the host on a model with `env` ("" or "VAR=value" assignments), fd 3
// reading `input` (printf syntax) and fd 4 counted: the output is the
// host's stderr, then "bytes=<frame bytes written>", then "rc=<exit code>".
std::string Host(const std::string& env, const std::string& args, const std::string& input) {
  return RunCommand("out=$(mktemp) && printf '" + input + "' | env -u " + kMaxFrameBytesEnv + " " +
                    env + " '" + TestRuntime().worker_host + "' " + args +
                    " 3<&0 4>\"$out\" 2>&1 >/dev/null; rc=$?; echo bytes=$(wc -c <\"$out\"); "
                    "rm -f \"$out\"; echo rc=$rc");
}

std::string Args(const std::string& runtime, const std::string& model) {
  return "--runtime " + runtime + " --model-dir '" + TestModelDir(model) + "'";
}

std::string Var(const std::string& value) { return std::string(kMaxFrameBytesEnv) + "=" + value; }

TEST(WorkerHostTest, SaysHelloAndEndsCleanlyAtEndOfInput) {
  for (const auto& [runtime, model] :
       {std::pair<std::string, std::string>{"python", "echo_py"}, {"r", "inputs_r"}}) {
    const std::string out = Host("", Args(runtime, model), "");
    EXPECT_NE(out.find("rc=0"), std::string::npos) << runtime << ": " << out;
    EXPECT_EQ(out.find("bytes=0\n"), std::string::npos) << runtime << ": no Hello: " << out;
  }
}

TEST(WorkerHostTest, RefusesAFrameOverTheDaemonsLimitBeforeReadingIt) {
  // 1235 = 0x04d3, little-endian; nothing follows the header.
  const std::string out = Host(Var("1234"), Args("python", "echo_py"), "\\323\\004\\000\\000");
  EXPECT_NE(out.find("exceeds the limit of 1234"), std::string::npos) << out;
  EXPECT_NE(out.find("rc=2"), std::string::npos) << out;
}

TEST(WorkerHostTest, AFrameLimitThatIsNotANumberStopsItAtOnce) {
  for (const std::string value : {"12x", "0", "99999999999", ""}) {
    const std::string out = Host(Var(value), Args("python", "echo_py"), "");
    EXPECT_NE(out.find("is not a frame size in bytes"), std::string::npos) << value << ": " << out;
    EXPECT_NE(out.find("rc=64"), std::string::npos) << value << ": " << out;
    EXPECT_NE(out.find("bytes=0"), std::string::npos) << value << ": " << out;
  }
}

TEST(WorkerHostTest, ABadCommandLineIsAUsageError) {
  for (const std::string args : {"", "--runtime julia --model-dir /tmp", "--model-dir",
                                 "--runtime python --model-dir /tmp --bogus"}) {
    const std::string out = Host("", args, "");
    EXPECT_NE(out.find("usage: modelgate-worker"), std::string::npos) << args << ": " << out;
    EXPECT_NE(out.find("rc=64"), std::string::npos) << args << ": " << out;
  }
}

TEST(WorkerHostTest, AModelThatDoesNotLoadIsReportedInAFrameAndExitsNonZero) {
  const std::string out = Host("", Args("python", "load_fail_py"), "");
  EXPECT_NE(out.find("rc=1"), std::string::npos) << out;
  EXPECT_EQ(out.find("bytes=0\n"), std::string::npos) << "no load error frame: " << out;
}

}  // namespace
}  // namespace modelgate::testing
