#include "server/bridge_dir.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "support/test_env.h"

namespace modelgate {
namespace {

namespace fs = std::filesystem;

// A scratch prefix laid out as `cmake --install` lays it out: P/bin and,
// when asked, P/share/modelgate/bridge.
class Prefix {
 public:
  explicit Prefix(bool with_bridge) {
    char tmpl[] = "/tmp/modelgate-prefix-XXXXXX";
    root_ = ::mkdtemp(tmpl);
    fs::create_directories(root_ / "bin");
    if (with_bridge) fs::create_directories(root_ / "share/modelgate/bridge");
  }
  ~Prefix() { fs::remove_all(root_); }
  fs::path binary() const { return root_ / "bin/modelgate"; }
  fs::path bridge() const { return root_ / "share/modelgate/bridge"; }

 private:
  fs::path root_;
};

TEST(BridgeDirTest, InstalledDaemonFindsTheRuntimesBesideItself) {
  Prefix p(/*with_bridge=*/true);
  EXPECT_EQ(ResolveBridgeDir(p.binary(), "../share/modelgate/bridge", "/build/bridge"),
            p.bridge().string());
}

TEST(BridgeDirTest, WithoutAnInstalledLayoutTheBuildTreeIsTheDefault) {
  Prefix p(/*with_bridge=*/false);
  EXPECT_EQ(ResolveBridgeDir(p.binary(), "../share/modelgate/bridge", "/build/./bridge"),
            "/build/bridge");
  EXPECT_EQ(ResolveBridgeDir(fs::path(), "../share/modelgate/bridge", "/build/bridge"),
            "/build/bridge");
}

TEST(BridgeDirTest, AnAbsoluteInstalledDirectoryIsUsedAsItIs) {
  Prefix p(/*with_bridge=*/true);
  EXPECT_EQ(ResolveBridgeDir("/elsewhere/bin/modelgate", p.bridge().string(), "/build/bridge"),
            p.bridge().string());
}

TEST(BridgeDirTest, TheTestBinaryIsNotInstalledSoItGetsTheBuildTreesDirectory) {
  // This test binary lives in the build tree, with no share/ beside it.
  EXPECT_EQ(fs::path(DefaultBridgeDir()), fs::path(testing::BridgeDir()).lexically_normal());
}

}  // namespace
}  // namespace modelgate
