#include "frontend/http/tls_context.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <unistd.h>

namespace modelgate {
namespace {

namespace fs = std::filesystem;

// A self-signed certificate and key made by the openssl CLI in a temp dir.
class TlsContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("modelgate-tls-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void MakeCert(const std::string& name) {
    const std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
        "-nodes -days 1 -subj /CN=" +
        name + " -keyout " + Path(name + ".key") + " -out " + Path(name + ".crt") + " 2>/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  TlsConfig Config(const std::string& name) const {
    return TlsConfig{Path(name + ".crt"), Path(name + ".key"), ""};
  }

  fs::path dir_;
};

TEST_F(TlsContextTest, LoadsACertificateAndKey) {
  MakeCert("a");
  auto tls = TlsContext::Load(Config("a"));
  ASSERT_TRUE(tls.ok()) << tls.status().ToString();
  EXPECT_NE((*tls)->Current(), nullptr);
}

TEST_F(TlsContextTest, ErrorsNameTheFile) {
  MakeCert("a");
  MakeCert("b");
  auto missing = TlsContext::Load(TlsConfig{Path("nope.crt"), Path("a.key"), ""});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("nope.crt"), std::string::npos);
  auto mismatch = TlsContext::Load(TlsConfig{Path("a.crt"), Path("b.key"), ""});
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.status().message().find("b.key"), std::string::npos)
      << mismatch.status().message();
  auto no_key = TlsContext::Load(TlsConfig{Path("a.crt"), "", ""});
  ASSERT_FALSE(no_key.ok());
  EXPECT_NE(no_key.status().message().find("--tls-key"), std::string::npos);
  auto bad_ca = TlsContext::Load(TlsConfig{Path("a.crt"), Path("a.key"), Path("nope-ca.crt")});
  ASSERT_FALSE(bad_ca.ok());
  EXPECT_NE(bad_ca.status().message().find("nope-ca.crt"), std::string::npos);
}

TEST_F(TlsContextTest, ReloadSwapsInNewFilesAndKeepsTheOldOnError) {
  MakeCert("a");
  auto tls = TlsContext::Load(Config("a"));
  ASSERT_TRUE(tls.ok());
  auto first = (*tls)->Current();
  // A broken certificate file: the old context stays.
  { std::ofstream(Path("a.crt")) << "not a certificate\n"; }
  Status bad = (*tls)->Reload();
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("a.crt"), std::string::npos);
  EXPECT_EQ((*tls)->Current(), first);
  // New valid files: a new context for new connections.
  MakeCert("a");
  EXPECT_TRUE((*tls)->Reload().ok());
  EXPECT_NE((*tls)->Current(), first);
}

}  // namespace
}  // namespace modelgate
