#include "server/worker_host_path.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "support/test_env.h"

namespace modelgate {
namespace {

namespace fs = std::filesystem;

TEST(WorkerHostPathTest, TheHostIsBesideTheDaemon) {
  EXPECT_EQ(ResolveWorkerHost("/usr/local/bin/modelgate"), "/usr/local/bin/modelgate-worker");
  EXPECT_EQ(ResolveWorkerHost("/opt/mg/./bin/modelgate"), "/opt/mg/bin/modelgate-worker");
}

TEST(WorkerHostPathTest, AnUnknownExecutableLeavesTheHostToPath) {
  EXPECT_EQ(ResolveWorkerHost(fs::path()), "modelgate-worker");
  EXPECT_EQ(ResolveWorkerHost("modelgate"), "modelgate-worker");
}

TEST(WorkerHostPathTest, TheTestBinaryFindsTheBuildTreesHost) {
  // unit_tests is built in the build directory, beside modelgate-worker.
  EXPECT_EQ(fs::path(DefaultWorkerHost()),
            (fs::path(testing::BinaryDir()) / "modelgate-worker").lexically_normal());
}

}  // namespace
}  // namespace modelgate
