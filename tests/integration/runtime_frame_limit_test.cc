// The R and Python runtimes take their frame limit from the daemon
// (MODELGATE_MAX_FRAME_BYTES, set by WorkerCommand) and refuse a frame over
// it; the built-in 64 MiB applies only when the variable is absent.
#include <gtest/gtest.h>

#include <string>

#include "backend/process/worker_command.h"
#include "common/limits.h"
#include "support/test_env.h"

namespace modelgate::testing {
namespace {

// `env` is a shell assignment prefix ("" or "VAR=value"); output ends with
// "rc=<exit code>".
std::string Python(const std::string& env, const std::string& code) {
  return RunCommand("cd '" + BridgeDir() + "/python' && env -u " + kMaxFrameBytesEnv + " " + env +
                    " " + TestPython() + " -c '" + code + "' 2>&1; echo rc=$?");
}

std::string R(const std::string& env, const std::string& code) {
  return RunCommand("env -u " + std::string(kMaxFrameBytesEnv) + " " + env +
                    " Rscript --vanilla -e 'source(\"" + BridgeDir() +
                    "/R/modelgate_runtime.R\"); " + code + "' 2>&1; echo rc=$?");
}

std::string Var(const std::string& value) { return std::string(kMaxFrameBytesEnv) + "=" + value; }

TEST(RuntimeFrameLimitTest, PythonReadsTheDaemonsLimit) {
  const std::string print = "import modelgate_runtime as m; print(m.MAX_FRAME_BYTES)";
  EXPECT_EQ(Python(Var(std::to_string(kMaxFrameBytes)), print),
            std::to_string(kMaxFrameBytes) + "\nrc=0\n");
  EXPECT_EQ(Python(Var("1234"), print), "1234\nrc=0\n");
  EXPECT_EQ(Python("", print), "67108864\nrc=0\n");  // documented fallback
  const std::string bad = Python(Var("12x"), print);
  EXPECT_NE(bad.find("is not a frame size in bytes"), std::string::npos) << bad;
  EXPECT_EQ(bad.find("rc=0"), std::string::npos) << bad;
  // A frame over the limit is refused before its body is read.
  const std::string over = Python(Var("1234"),
                                  "import io, struct, modelgate_runtime as m\n"
                                  "try:\n m.read_frame(io.BytesIO(struct.pack(\"<I\", 1235)))\n"
                                  "except m.ProtocolError as e:\n print(e)");
  EXPECT_EQ(over, "frame of 1235 bytes exceeds max 1234\nrc=0\n");
}

TEST(RuntimeFrameLimitTest, RReadsTheDaemonsLimit) {
  const std::string print = "cat(format(mg_max_frame_bytes, scientific = FALSE))";
  EXPECT_EQ(R(Var(std::to_string(kMaxFrameBytes)), print),
            std::to_string(kMaxFrameBytes) + "rc=0\n");
  EXPECT_EQ(R(Var("1234"), print), "1234rc=0\n");
  EXPECT_EQ(R("", print), "67108864rc=0\n");  // documented fallback
  const std::string bad = R(Var("12x"), print);
  EXPECT_NE(bad.find("is not a frame size in bytes"), std::string::npos) << bad;
  EXPECT_EQ(bad.find("rc=0"), std::string::npos) << bad;
  const std::string over =
      R(Var("1234"),
        "con <- rawConnection(writeBin(1235L, raw(), size = 4, endian = \"little\")); "
        "r <- tryCatch(mg_read_frame(con), error = function(e) conditionMessage(e)); cat(r)");
  EXPECT_EQ(over, "frame length 1235 exceeds max 1234rc=0\n");
}

}  // namespace
}  // namespace modelgate::testing
