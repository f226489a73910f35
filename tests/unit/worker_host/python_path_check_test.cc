#include "python_path_check.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace modelgate::worker_host {
namespace {

namespace fs = std::filesystem;

class PythonPathCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("python_path_check_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string Dir(const std::string& rel) {
    fs::create_directories(root_ / rel);
    return (root_ / rel).string();
  }
  void Touch(const std::string& rel) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << "x";
  }

  fs::path root_;
};

TEST_F(PythonPathCheckTest, AcceptsDirectoriesBuiltForThisPython) {
  const std::string site = Dir("venv/lib/python3.11/site-packages");
  Touch("venv/lib/python3.11/site-packages/pkg/_speed.cpython-311-x86_64-linux-gnu.so");
  Touch("venv/lib/python3.11/site-packages/pure.py");
  EXPECT_EQ(CheckPythonPath({site, Dir("plain")}, 3, 11), "");
  EXPECT_EQ(CheckPythonPath({}, 3, 11), "");
}

TEST_F(PythonPathCheckTest, NamesAMissingEntry) {
  const std::string missing = (root_ / "nope").string();
  EXPECT_EQ(CheckPythonPath({Dir("ok"), missing}, 3, 11),
            "python_path entry '" + missing + "' is not an existing directory");
  Touch("file");
  EXPECT_NE(CheckPythonPath({(root_ / "file").string()}, 3, 11).find("not an existing directory"),
            std::string::npos);
}

TEST_F(PythonPathCheckTest, NamesTheOtherPythonOfALibSegment) {
  const std::string site = Dir("venv/lib/python3.9/site-packages");
  const std::string error = CheckPythonPath({site}, 3, 11);
  EXPECT_NE(error.find("'" + site + "'"), std::string::npos) << error;
  EXPECT_NE(error.find("Python 3.9 (its path has lib/python3.9/)"), std::string::npos) << error;
  EXPECT_NE(error.find("this worker's Python 3.11"), std::string::npos) << error;
}

TEST_F(PythonPathCheckTest, NamesAnExtensionModuleForAnotherPython) {
  const std::string dir = Dir("deps");
  Touch("deps/pkg/_native.cpython-39-x86_64-linux-gnu.so");
  const std::string error = CheckPythonPath({dir}, 3, 11);
  EXPECT_NE(error.find(dir + "/pkg/_native.cpython-39-x86_64-linux-gnu.so"), std::string::npos)
      << error;
  EXPECT_NE(error.find("Python 3.9, not for this worker's Python 3.11"), std::string::npos)
      << error;
}

TEST_F(PythonPathCheckTest, LooksOnlyOneLevelBelowAnEntry) {
  const std::string dir = Dir("deep");
  Touch("deep/a/b/_native.cpython-39-x86_64-linux-gnu.so");
  EXPECT_EQ(CheckPythonPath({dir}, 3, 11), "");
}

}  // namespace
}  // namespace modelgate::worker_host
