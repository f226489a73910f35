#include "backend/process/worker_command.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "common/limits.h"

namespace modelgate {
namespace {

size_t Count(const std::vector<std::string>& env, const std::string& entry) {
  return static_cast<size_t>(std::count(env.begin(), env.end(), entry));
}

TEST(WorkerCommandTest, PassesTheFrameLimitToBothRuntimes) {
  RuntimeSettings runtime;
  runtime.worker_host = "/opt/mg/bin/modelgate-worker";
  for (Backend backend : {Backend::kR, Backend::kPython}) {
    WorkerCommandOptions options;
    options.backend = backend;
    options.version_dir = "/m/1";
    // A model's own variables cannot change the protocol limit.
    options.env = {{kMaxFrameBytesEnv, "1"}, {"MODEL_VAR", "x"}};
    const SpawnOptions spawn = WorkerCommand(runtime, options);
    const std::string expected =
        std::string(kMaxFrameBytesEnv) + "=" + std::to_string(kMaxFrameBytes);
    EXPECT_EQ(Count(spawn.env, expected), 1u);
    EXPECT_EQ(Count(spawn.env, std::string(kMaxFrameBytesEnv) + "=1"), 0u);
    EXPECT_EQ(Count(spawn.env, "MODEL_VAR=x"), 1u);
  }
}

TEST(WorkerCommandTest, RunsTheWorkerHostWithTheModelsRuntime) {
  RuntimeSettings runtime;
  runtime.worker_host = "/opt/mg/bin/modelgate-worker";
  WorkerCommandOptions options;
  options.backend = Backend::kR;
  options.version_dir = "/m/1";
  options.dataframe = true;
  EXPECT_EQ(WorkerCommand(runtime, options).argv,
            (std::vector<std::string>{"/opt/mg/bin/modelgate-worker", "--runtime", "r",
                                      "--model-dir", "/m/1", "--dataframe"}));
  // A model's "interpreter" is a worker host of its own.
  options.backend = Backend::kPython;
  options.dataframe = false;
  options.interpreter = "/opt/other/modelgate-worker";
  EXPECT_EQ(WorkerCommand(runtime, options).argv,
            (std::vector<std::string>{"/opt/other/modelgate-worker", "--runtime", "python",
                                      "--model-dir", "/m/1"}));
}

TEST(WorkerCommandTest, NativeHostGetsTheSearchPathsInOrder) {
  RuntimeSettings runtime;
  runtime.worker_host = "/bin/modelgate-worker";
  WorkerCommandOptions options;
  options.backend = Backend::kPython;
  options.version_dir = "/m/1";
  options.dataframe = true;
  options.python_path = {"/m/venv/site", "/opt/extra"};
  EXPECT_EQ(WorkerCommand(runtime, options).argv,
            (std::vector<std::string>{"/bin/modelgate-worker", "--runtime", "python", "--model-dir",
                                      "/m/1", "--python-path", "/m/venv/site", "--python-path",
                                      "/opt/extra", "--dataframe"}));
  options.backend = Backend::kR;
  options.dataframe = false;
  options.python_path.clear();
  options.r_libs = {"/m/rlib"};
  EXPECT_EQ(WorkerCommand(runtime, options).argv,
            (std::vector<std::string>{"/bin/modelgate-worker", "--runtime", "r", "--model-dir",
                                      "/m/1", "--r-libs", "/m/rlib"}));
}

}  // namespace
}  // namespace modelgate
