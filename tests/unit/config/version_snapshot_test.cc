// SnapshotVersion: a private copy that later edits of the repository do not
// reach, named and reused by a fingerprint of its files and effective config.
#include "config/version_snapshot.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "unit/config/temp_tree.h"

namespace modelgate {
namespace {

namespace fs = std::filesystem;

class VersionSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree_.Write("repo/m/1/model.py", "class Model: pass\n");
    tree_.Write("repo/m/1/data/weights.bin", std::string("\0\1\2\3", 4));
    fs::permissions(tree_.Path("repo/m/1/model.py"), fs::perms(0600));
    version_.version = 1;
    version_.dir = tree_.Path("repo/m/1");
    version_.config_json = R"({"backend":"python"})";
  }
  std::string Root() const { return tree_.Path("snapshots"); }
  StatusOr<VersionSnapshot> Take() const { return SnapshotVersion("m", version_, Root()); }
  static std::string Read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // Entries directly under the snapshot root.
  size_t RootEntries() const {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(Root())) ++n;
    return n;
  }

  TempTree tree_;
  VersionEntry version_;
};

TEST_F(VersionSnapshotTest, CopiesTheVersionIntoADirectoryNamedByItsFingerprint) {
  auto snap = Take();
  ASSERT_TRUE(snap.ok()) << snap.status().message();
  EXPECT_EQ(snap->fingerprint.size(), kFingerprintHexChars);
  EXPECT_EQ(snap->fingerprint.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(snap->dir, Root() + "/m-1-" + snap->fingerprint);
  EXPECT_FALSE(snap->reused);
  EXPECT_EQ(Read(snap->dir + "/model.py"), "class Model: pass\n");
  EXPECT_EQ(Read(snap->dir + "/data/weights.bin"), std::string("\0\1\2\3", 4));
  EXPECT_EQ(RootEntries(), 1u);  // no temp directory left behind
  // The root can be passed through, not listed; the copy has its source's
  // permissions, so a worker user reads what it could read in the repository.
  EXPECT_EQ(fs::status(Root()).permissions(), fs::perms(0711));
  // (without write bits: a snapshot is never edited in place).
  const auto no_write = [](fs::perms p) {
    return p & ~(fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write);
  };
  EXPECT_EQ(fs::status(snap->dir).permissions(), no_write(fs::status(version_.dir).permissions()));
  EXPECT_EQ(fs::status(snap->dir + "/data").permissions(),
            no_write(fs::status(version_.dir + "/data").permissions()));
  EXPECT_EQ(fs::status(snap->dir + "/model.py").permissions(), fs::perms(0400));
}

TEST_F(VersionSnapshotTest, PermissionBitsAreMirroredAndAReadOnlyTreeIsStillRemoved) {
  fs::permissions(tree_.Path("repo/m/1/model.py"), fs::perms(0750));
  fs::permissions(tree_.Path("repo/m/1/data"), fs::perms(0500));
  auto snap = Take();
  fs::permissions(tree_.Path("repo/m/1/data"), fs::perms(0700));  // so the tree can go
  ASSERT_TRUE(snap.ok()) << snap.status().message();
  EXPECT_EQ(fs::status(snap->dir + "/model.py").permissions(), fs::perms(0550));
  EXPECT_EQ(fs::status(snap->dir + "/data").permissions(), fs::perms(0500));
  RemoveSnapshot(snap->dir);
  EXPECT_FALSE(fs::exists(snap->dir));
}

TEST_F(VersionSnapshotTest, LaterEditsOfTheSourceDoNotReachTheCopy) {
  auto snap = Take();
  ASSERT_TRUE(snap.ok()) << snap.status().message();
  tree_.Write("repo/m/1/model.py", "broken(");
  tree_.Write("repo/m/1/new.py", "x");
  fs::remove(tree_.Path("repo/m/1/data/weights.bin"));
  EXPECT_EQ(Read(snap->dir + "/model.py"), "class Model: pass\n");
  EXPECT_FALSE(fs::exists(snap->dir + "/new.py"));
  EXPECT_TRUE(fs::exists(snap->dir + "/data/weights.bin"));
}

TEST_F(VersionSnapshotTest, IdenticalContentGivesTheSameFingerprintAndReusesTheDirectory) {
  auto first = Take();
  ASSERT_TRUE(first.ok()) << first.status().message();
  // Rewritten with the same bytes: a new mtime, the same content.
  tree_.Write("repo/m/1/model.py", "class Model: pass\n");
  auto second = Take();
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(second->fingerprint, first->fingerprint);
  EXPECT_EQ(second->dir, first->dir);
  EXPECT_TRUE(second->reused);
  EXPECT_EQ(RootEntries(), 1u);
  // The same content elsewhere (another repository) has the same fingerprint.
  fs::create_directories(tree_.Path("elsewhere"));
  fs::copy(tree_.Path("repo/m/1"), tree_.Path("elsewhere/1"), fs::copy_options::recursive);
  version_.dir = tree_.Path("elsewhere/1");
  auto third = Take();
  ASSERT_TRUE(third.ok()) << third.status().message();
  EXPECT_EQ(third->fingerprint, first->fingerprint);
}

TEST_F(VersionSnapshotTest, AChangedByteOrConfigGivesAnotherFingerprint) {
  auto base = Take();
  ASSERT_TRUE(base.ok()) << base.status().message();
  tree_.Write("repo/m/1/data/weights.bin", std::string("\0\1\2\4", 4));
  auto byte = Take();
  ASSERT_TRUE(byte.ok()) << byte.status().message();
  EXPECT_NE(byte->fingerprint, base->fingerprint);
  EXPECT_NE(byte->dir, base->dir);
  EXPECT_EQ(Read(base->dir + "/data/weights.bin"), std::string("\0\1\2\3", 4));

  tree_.Write("repo/m/1/data/weights.bin", std::string("\0\1\2\3", 4));
  version_.config_json = R"({"backend":"python","workers":2})";
  auto config = Take();
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_NE(config->fingerprint, base->fingerprint);
  EXPECT_NE(config->fingerprint, byte->fingerprint);

  // A renamed file with the same bytes is another version too.
  version_.config_json = R"({"backend":"python"})";
  fs::rename(tree_.Path("repo/m/1/data"), tree_.Path("repo/m/1/data2"));
  auto renamed = Take();
  ASSERT_TRUE(renamed.ok()) << renamed.status().message();
  EXPECT_NE(renamed->fingerprint, base->fingerprint);
  EXPECT_EQ(RootEntries(), 4u);
}

TEST_F(VersionSnapshotTest, SymlinksAreCopiedAsTheirTargets) {
  tree_.Write("shared/lib.py", "def f(): pass\n");
  fs::create_symlink(tree_.Path("shared/lib.py"), tree_.Path("repo/m/1/lib.py"));
  fs::create_directory_symlink(tree_.Path("shared"), tree_.Path("repo/m/1/shared"));
  auto snap = Take();
  ASSERT_TRUE(snap.ok()) << snap.status().message();
  EXPECT_FALSE(fs::is_symlink(snap->dir + "/lib.py"));
  EXPECT_EQ(Read(snap->dir + "/lib.py"), "def f(): pass\n");
  EXPECT_FALSE(fs::is_symlink(snap->dir + "/shared"));
  EXPECT_EQ(Read(snap->dir + "/shared/lib.py"), "def f(): pass\n");
}

TEST_F(VersionSnapshotTest, ErrorsNameThePathAndLeaveNothingBehind) {
  fs::create_symlink(tree_.Path("nowhere"), tree_.Path("repo/m/1/dangling.py"));
  auto dangling = Take();
  ASSERT_FALSE(dangling.ok());
  EXPECT_NE(dangling.status().message().find(tree_.Path("repo/m/1/dangling.py") + ": cannot stat"),
            std::string::npos)
      << dangling.status().message();
  EXPECT_EQ(RootEntries(), 0u);
  fs::remove(tree_.Path("repo/m/1/dangling.py"));

  fs::create_directory_symlink(tree_.Path("repo/m/1"), tree_.Path("repo/m/1/loop"));
  auto loop = Take();
  ASSERT_FALSE(loop.ok());
  EXPECT_NE(loop.status().message().find("a symlink loop"), std::string::npos)
      << loop.status().message();
  EXPECT_EQ(RootEntries(), 0u);
  fs::remove(tree_.Path("repo/m/1/loop"));

  ASSERT_EQ(::mkfifo(tree_.Path("repo/m/1/pipe").c_str(), 0600), 0);
  auto fifo = Take();
  ASSERT_FALSE(fifo.ok());
  EXPECT_NE(fifo.status().message().find(tree_.Path("repo/m/1/pipe") +
                                         ": not a regular file or directory"),
            std::string::npos)
      << fifo.status().message();
  EXPECT_EQ(RootEntries(), 0u);
}

TEST_F(VersionSnapshotTest, RemoveSnapshotRemovesTheCopyOnly) {
  auto snap = Take();
  ASSERT_TRUE(snap.ok()) << snap.status().message();
  RemoveSnapshot(snap->dir);
  EXPECT_FALSE(fs::exists(snap->dir));
  EXPECT_TRUE(fs::exists(tree_.Path("repo/m/1/model.py")));
  RemoveSnapshot(snap->dir);  // already gone: nothing to do, no crash
}

}  // namespace
}  // namespace modelgate
