#include "security/token_authenticator.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace modelgate {
namespace {

constexpr char kInferToken[] = "infer-token-0123456789";
constexpr char kAdminToken[] = "admin-token-0123456789";

std::string Hex(const TokenAuthenticator::Digest& d) {
  std::string out;
  char buf[3];
  for (unsigned char c : d) {
    std::snprintf(buf, sizeof buf, "%02x", c);
    out += buf;
  }
  return out;
}

class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    char name[] = "/tmp/modelgate-tokens-XXXXXX";
    int fd = ::mkstemp(name);
    ::close(fd);
    path_ = name;
    Write(text);
  }
  ~TempFile() { std::remove(path_.c_str()); }
  void Write(const std::string& text) {
    std::ofstream(path_, std::ios::trunc) << text;
    ::chmod(path_.c_str(), 0600);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::unique_ptr<TokenAuthenticator> Make(const std::string& text) {
  auto table = TokenAuthenticator::Parse(text, "tokens");
  EXPECT_TRUE(table.ok()) << table.status().message();
  return std::make_unique<TokenAuthenticator>("tokens", std::move(table).value());
}

TEST(TokenAuthenticatorTest, ScopesGrantWhatTheySayAndAdminImpliesInfer) {
  auto auth = Make(std::string("# comment\n\n") + kInferToken + " infer\n" + kAdminToken +
                   " admin  # trailing comment\n");
  const std::string infer = std::string("Bearer ") + kInferToken;
  const std::string admin = std::string("Bearer ") + kAdminToken;
  EXPECT_EQ(auth->Check(infer, AuthScope::kInfer), AuthResult::kAllowed);
  EXPECT_EQ(auth->Check(infer, AuthScope::kAdmin), AuthResult::kInsufficientScope);
  EXPECT_EQ(auth->Check(admin, AuthScope::kInfer), AuthResult::kAllowed);
  EXPECT_EQ(auth->Check(admin, AuthScope::kAdmin), AuthResult::kAllowed);
  EXPECT_EQ(auth->size(), 2u);
}

TEST(TokenAuthenticatorTest, MissingMalformedAndUnknownCredentialsAreRefused) {
  auto auth = Make(std::string(kAdminToken) + " admin\n");
  EXPECT_EQ(auth->Check("", AuthScope::kInfer), AuthResult::kMissingToken);
  EXPECT_EQ(auth->Check(kAdminToken, AuthScope::kInfer), AuthResult::kInvalidToken);  // no scheme
  EXPECT_EQ(auth->Check(std::string("Basic ") + kAdminToken, AuthScope::kInfer),
            AuthResult::kInvalidToken);
  EXPECT_EQ(auth->Check("Bearer ", AuthScope::kInfer), AuthResult::kInvalidToken);
  EXPECT_EQ(auth->Check("Bearer wrong-token-0123456789", AuthScope::kInfer),
            AuthResult::kInvalidToken);
  EXPECT_EQ(auth->Check(std::string("Bearer ") + kAdminToken + "x", AuthScope::kInfer),
            AuthResult::kInvalidToken);
  EXPECT_EQ(auth->Check("Bearer " + std::string(TokenAuthenticator::kMaxCredentialBytes, 'a'),
                        AuthScope::kInfer),
            AuthResult::kInvalidToken);
  // The scheme is case-insensitive (RFC 7235); surrounding blanks are ignored.
  EXPECT_EQ(auth->Check(std::string("bearer  ") + kAdminToken + " ", AuthScope::kAdmin),
            AuthResult::kAllowed);
  EXPECT_EQ(auth->Check(std::string("BEARER ") + kAdminToken, AuthScope::kAdmin),
            AuthResult::kAllowed);
}

TEST(TokenAuthenticatorTest, AcceptsTheSha256OfATokenInsteadOfTheToken) {
  const std::string hex = Hex(TokenAuthenticator::Sha256(kInferToken));
  // Known answer: SHA-256("abc").
  EXPECT_EQ(Hex(TokenAuthenticator::Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  auto auth = Make("sha256:" + upper + " infer\n");
  EXPECT_EQ(auth->Check(std::string("Bearer ") + kInferToken, AuthScope::kInfer),
            AuthResult::kAllowed);
  // The hash itself is not a credential.
  EXPECT_EQ(auth->Check("Bearer sha256:" + hex, AuthScope::kInfer), AuthResult::kInvalidToken);
}

TEST(TokenAuthenticatorTest, BadLinesAreErrorsNamingFileAndLineButNotTheToken) {
  struct Case {
    std::string text;
    std::string expected;
  };
  const std::string secret = "s3cret-but-short";  // 16 characters: long enough
  const Case cases[] = {
      {"# ok\n" + secret + " root\n", "tokens:2: unknown scope 'root'"},
      {secret + "\n", "tokens:1: expected '<token or sha256:HEX> <scope>', found 1 field(s)"},
      {secret + " infer extra\n", "found 3 field(s)"},
      {"short-token infer\n", "tokens:1: the token is 11 characters long; at least 16"},
      {"sha256:abcd infer\n", "tokens:1: sha256: needs 64 hex digits, found 4"},
      {"sha256:" + std::string(63, 'a') + "g infer\n", "tokens:1: sha256: has a non-hex"},
      {secret + " infer\n" + secret + " admin\n", "tokens:2: the same token as line 1"},
      {"tok\xc3\xa9n-0123456789abc infer\n", "tokens:1: the token has a character outside"},
      {std::string(TokenAuthenticator::kMaxLineBytes + 1, 'a') + "\n", "tokens:1: line longer"},
      {"# nothing but comments\n\n", "tokens: defines no tokens"},
  };
  for (const auto& c : cases) {
    auto r = TokenAuthenticator::Parse(c.text, "tokens");
    ASSERT_FALSE(r.ok()) << c.expected;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.expected), std::string::npos) << r.status().message();
    EXPECT_EQ(r.status().message().find(secret), std::string::npos) << r.status().message();
  }
  // Windows line ends are fine.
  EXPECT_TRUE(TokenAuthenticator::Parse(secret + " infer\r\n", "tokens").ok());
}

TEST(TokenAuthenticatorTest, ReloadSwapsTokensAndKeepsThemWhenTheFileIsBad) {
  TempFile file(std::string(kInferToken) + " infer\n");
  auto made = TokenAuthenticator::FromFile(file.path());
  ASSERT_TRUE(made.ok()) << made.status().message();
  auto& auth = **made;
  const std::string infer = std::string("Bearer ") + kInferToken;
  const std::string admin = std::string("Bearer ") + kAdminToken;
  EXPECT_EQ(auth.Check(admin, AuthScope::kInfer), AuthResult::kInvalidToken);

  file.Write(std::string(kAdminToken) + " admin\n");
  ASSERT_TRUE(auth.Reload().ok());
  EXPECT_EQ(auth.Check(admin, AuthScope::kAdmin), AuthResult::kAllowed);
  EXPECT_EQ(auth.Check(infer, AuthScope::kInfer), AuthResult::kInvalidToken);  // revoked

  file.Write(std::string(kInferToken) + " superuser\n");
  Status s = auth.Reload();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(file.path() + ":1: unknown scope"), std::string::npos);
  EXPECT_EQ(auth.Check(admin, AuthScope::kAdmin), AuthResult::kAllowed);  // old tokens kept
  EXPECT_EQ(auth.Check(infer, AuthScope::kInfer), AuthResult::kInvalidToken);
}

TEST(TokenAuthenticatorTest, ReloadIfChangedReadsOnlyAChangedFileAndReportsABadOneOnce) {
  TempFile file(std::string(kInferToken) + " infer\n");
  auto made = TokenAuthenticator::FromFile(file.path());
  ASSERT_TRUE(made.ok());
  auto& auth = **made;
  auto unchanged = auth.ReloadIfChanged();
  ASSERT_TRUE(unchanged.ok());
  EXPECT_FALSE(*unchanged);

  file.Write(std::string(kAdminToken) + " admin\n" + kInferToken + " infer\n");
  auto changed = auth.ReloadIfChanged();
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(*changed);
  EXPECT_EQ(auth.size(), 2u);

  file.Write("not a token file\n");
  EXPECT_FALSE(auth.ReloadIfChanged().ok());
  auto again = auth.ReloadIfChanged();  // the same bad version: not re-reported
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  EXPECT_EQ(auth.Check(std::string("Bearer ") + kAdminToken, AuthScope::kAdmin),
            AuthResult::kAllowed);

  // Replaced by rename (how kubelet updates a Secret): a new inode.
  const std::string next = file.path() + ".next";
  std::ofstream(next) << kInferToken << " infer\n";
  ASSERT_EQ(std::rename(next.c_str(), file.path().c_str()), 0);
  changed = auth.ReloadIfChanged();
  ASSERT_TRUE(changed.ok()) << changed.status().message();
  EXPECT_TRUE(*changed);
  EXPECT_EQ(auth.Check(std::string("Bearer ") + kAdminToken, AuthScope::kAdmin),
            AuthResult::kInvalidToken);
}

TEST(TokenAuthenticatorTest, UnreadableFileIsAnErrorNamingIt) {
  auto r = TokenAuthenticator::FromFile("/nonexistent/modelgate-tokens");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "/nonexistent/modelgate-tokens: cannot read: No such file or directory");
}

TEST(TokenAuthenticatorTest, ObserverSeesEveryDeniedCheckOnly) {
  auto auth = Make(std::string(kInferToken) + " infer\n");
  std::vector<AuthResult> seen;
  auth->set_failure_observer([&seen](AuthResult r) { seen.push_back(r); });
  auth->Check("", AuthScope::kInfer);
  auth->Check("Bearer nope-nope-nope-nope", AuthScope::kInfer);
  auth->Check(std::string("Bearer ") + kInferToken, AuthScope::kAdmin);
  auth->Check(std::string("Bearer ") + kInferToken, AuthScope::kInfer);
  EXPECT_EQ(seen, (std::vector<AuthResult>{AuthResult::kMissingToken, AuthResult::kInvalidToken,
                                           AuthResult::kInsufficientScope}));
}

TEST(AuthStatusTest, MapsResultsToCodesWithMessagesThatSayWhatIsMissing) {
  Status missing = AuthStatus(AuthResult::kMissingToken, AuthScope::kAdmin, "the X header");
  EXPECT_EQ(missing.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(missing.message().find("scope 'admin'"), std::string::npos);
  EXPECT_NE(missing.message().find("the X header"), std::string::npos);
  EXPECT_EQ(AuthStatus(AuthResult::kInvalidToken, AuthScope::kInfer, "h").code(),
            StatusCode::kUnauthenticated);
  Status scope = AuthStatus(AuthResult::kInsufficientScope, AuthScope::kAdmin, "h");
  EXPECT_EQ(scope.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(scope.message().find("lacks scope 'admin'"), std::string::npos);
  EXPECT_TRUE(AuthStatus(AuthResult::kAllowed, AuthScope::kAdmin, "h").ok());
  EXPECT_EQ(AuthResultName(AuthResult::kInsufficientScope), "insufficient_scope");
  EXPECT_EQ(AuthResultName(AuthResult::kMissingToken), "missing_token");
}

}  // namespace
}  // namespace modelgate
