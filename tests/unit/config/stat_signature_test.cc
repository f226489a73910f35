// StatSignature: changes when a file under the model directory is edited,
// added or removed (at any depth), and not otherwise.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "modelgate/model_repository.h"
#include "unit/config/temp_tree.h"

namespace modelgate {
namespace {

namespace fs = std::filesystem;

class StatSignatureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree_.Write("m/config.json", "{}");
    tree_.Write("m/1/model.py", "v1");
    tree_.Write("m/1/data/weights.bin", "0123456789");
  }
  std::string Sig() const { return StatSignature(tree_.Path("m")); }

  TempTree tree_;
};

TEST_F(StatSignatureTest, StableWhileNothingChanges) {
  const std::string a = Sig();
  EXPECT_EQ(a.size(), 64u);
  EXPECT_EQ(Sig(), a);
  // Reading a file changes nothing.
  std::ifstream(tree_.Path("m/1/model.py")).get();
  EXPECT_EQ(Sig(), a);
  // Neither does a change outside the model directory.
  tree_.Write("other/1/model.py", "x");
  EXPECT_EQ(Sig(), a);
}

TEST_F(StatSignatureTest, AnEditChangesIt) {
  const std::string before = Sig();
  tree_.Write("m/1/data/weights.bin", "0123456789a");  // size
  const std::string resized = Sig();
  EXPECT_NE(resized, before);
  // Same size, only the modification time differs.
  const auto t = fs::last_write_time(tree_.Path("m/1/model.py"));
  tree_.Write("m/1/model.py", "v2");
  fs::last_write_time(tree_.Path("m/1/model.py"), t);
  const std::string same_time = Sig();
  fs::last_write_time(tree_.Path("m/1/model.py"), t + std::chrono::nanoseconds(1));
  EXPECT_NE(Sig(), same_time);
}

TEST_F(StatSignatureTest, AddingOrRemovingAFileOrDirectoryChangesIt) {
  const std::string before = Sig();
  tree_.Write("m/2/model.py", "v2");
  const std::string added = Sig();
  EXPECT_NE(added, before);
  tree_.Write("m/2/config.json", "{}");
  const std::string added_config = Sig();
  EXPECT_NE(added_config, added);
  fs::remove(tree_.Path("m/2/config.json"));
  fs::remove(tree_.Path("m/1/data/weights.bin"));
  EXPECT_NE(Sig(), added_config);
  fs::create_directories(tree_.Path("m/3"));
  const std::string empty_dir = Sig();
  fs::remove(tree_.Path("m/3"));
  EXPECT_NE(Sig(), empty_dir);
}

TEST_F(StatSignatureTest, FollowsSymlinksToTheirTargets) {
  tree_.Write("shared/lib.py", "a");
  fs::create_symlink(tree_.Path("shared/lib.py"), tree_.Path("m/1/lib.py"));
  const std::string before = Sig();
  tree_.Write("shared/lib.py", "ab");
  EXPECT_NE(Sig(), before);
}

TEST_F(StatSignatureTest, MissingDirectoryHasASignatureOfItsOwn) {
  const std::string missing = StatSignature(tree_.Path("nothing"));
  EXPECT_EQ(missing.size(), 64u);
  EXPECT_EQ(StatSignature(tree_.Path("nothing")), missing);
  EXPECT_NE(missing, Sig());
}

}  // namespace
}  // namespace modelgate
