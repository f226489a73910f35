// The version lives in CMake's project(VERSION) and reaches the code through
// the generated modelgate/version.h. The Helm chart's appVersion must be a
// literal in Chart.yaml, so this test keeps it in step.
#include "modelgate/version.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "support/test_env.h"

namespace modelgate {
namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(VersionTest, IsTheCMakeProjectVersion) {
  const std::string cmake = Read(testing::SourceDir() + "/CMakeLists.txt");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(cmake, m, std::regex(R"(project\(modelgate VERSION ([0-9.]+))")));
  EXPECT_EQ(m[1].str(), kVersion);
}

TEST(VersionTest, HelmChartAppVersionMatches) {
  const std::string chart = Read(testing::SourceDir() + "/deploy/helm/modelgate/Chart.yaml");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(chart, m, std::regex(R"re(\nappVersion: "([^"]+)")re")));
  EXPECT_EQ(m[1].str(), kVersion) << "set appVersion in deploy/helm/modelgate/Chart.yaml to the "
                                     "project(VERSION) of CMakeLists.txt";
}

}  // namespace
}  // namespace modelgate
