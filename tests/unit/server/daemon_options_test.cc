#include "server/daemon_options.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/limits.h"
#include "modelgate/version.h"

namespace modelgate {
namespace {

namespace fs = std::filesystem;

// A scratch directory with a self-signed certificate, its key, a second key
// and a token file, written with libcrypto (no openssl CLI needed).
class Scratch {
 public:
  Scratch() {
    char tmpl[] = "/tmp/modelgate-options-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    EVP_PKEY* key = EVP_EC_gen("P-256");
    EVP_PKEY* other = EVP_EC_gen("P-256");
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509_sign(cert, key, EVP_sha256());
    Write("cert.pem", [&](FILE* f) { PEM_write_X509(f, cert); });
    Write("key.pem",
          [&](FILE* f) { PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr); });
    Write("other-key.pem",
          [&](FILE* f) { PEM_write_PrivateKey(f, other, nullptr, nullptr, 0, nullptr, nullptr); });
    X509_free(cert);
    EVP_PKEY_free(key);
    EVP_PKEY_free(other);
    std::ofstream(Path("garbage.pem")) << "not a pem file\n";
    std::ofstream(Path("tokens")) << "infer-token-0123456789 infer\n";
    std::ofstream(Path("bad-tokens")) << "# tokens\ninfer-token-0123456789 infer\nx y z\n";
  }
  ~Scratch() { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

 private:
  template <typename F>
  void Write(const std::string& name, F&& f) {
    FILE* out = std::fopen(Path(name).c_str(), "w");
    f(out);
    std::fclose(out);
  }
  std::string dir_;
};

std::optional<DaemonOptions> Parse(std::vector<std::string> args, int* exit_code) {
  args.insert(args.begin(), {"modelgate", "--model-repository", "/models"});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return ParseDaemonOptions(static_cast<int>(argv.size()), argv.data(), exit_code);
}

TEST(DaemonOptionsTest, BindsLoopbackByDefaultWithSecurityOff) {
  int exit_code = -1;
  auto o = Parse({}, &exit_code);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->host, "127.0.0.1");
  EXPECT_TRUE(o->tls_cert.empty());
  EXPECT_TRUE(o->auth_tokens.empty());
  EXPECT_TRUE(o->cors_allow_origins.empty());
}

TEST(DaemonOptionsTest, VersionPrintsTheCMakeProjectVersion) {
  int exit_code = -1;
  ::testing::internal::CaptureStdout();
  auto o = Parse({"--version"}, &exit_code);
  const std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(o, std::nullopt);
  EXPECT_EQ(exit_code, 0);
  EXPECT_EQ(out, "modelgate " + std::string(kVersion) + "\n");
  // MODELGATE_VERSION in the environment is not --version.
  ::setenv("MODELGATE_VERSION", "1", 1);
  auto served = Parse({}, &exit_code);
  ::unsetenv("MODELGATE_VERSION");
  EXPECT_TRUE(served);
}

TEST(DaemonOptionsTest, LimitDefaultsComeFromCommonLimits) {
  int exit_code = -1;
  auto o = Parse({}, &exit_code);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->max_request_bytes, kDefaultMaxRequestBytes);
  EXPECT_EQ(kDefaultMaxRequestBytes, size_t{kMaxFrameBytes});
  EXPECT_EQ(o->max_inflight, kDefaultMaxInflight);
  EXPECT_EQ(o->max_connections, kDefaultMaxConnections);
}

TEST(DaemonOptionsTest, CorsOriginsAreRepeatableAndCommaSeparated) {
  int exit_code = -1;
  auto o = Parse({"--cors-allow-origin", "https://a.example, https://b.example",
                  "--cors-allow-origin=http://localhost:3000"},
                 &exit_code);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->cors_allow_origins,
            (std::vector<std::string>{"https://a.example", "https://b.example",
                                      "http://localhost:3000"}));
  EXPECT_EQ(Parse({"--cors-allow-origin", "https://a.example/"}, &exit_code), std::nullopt);
  EXPECT_EQ(exit_code, 2);
}

TEST(DaemonOptionsTest, EnvironmentSetsSecurityFlagsAndFlagsWin) {
  ::setenv("MODELGATE_CORS_ALLOW_ORIGIN", "https://env.example,https://env2.example", 1);
  int exit_code = -1;
  auto from_env = Parse({}, &exit_code);
  auto from_flag = Parse({"--cors-allow-origin", "https://flag.example"}, &exit_code);
  ::unsetenv("MODELGATE_CORS_ALLOW_ORIGIN");
  ASSERT_TRUE(from_env && from_flag);
  EXPECT_EQ(from_env->cors_allow_origins,
            (std::vector<std::string>{"https://env.example", "https://env2.example"}));
  EXPECT_EQ(from_flag->cors_allow_origins, std::vector<std::string>{"https://flag.example"});
}

TEST(DaemonOptionsTest, TlsAndTokenFilesAreCheckedWithClearErrors) {
  Scratch s;
  DaemonOptions o;
  EXPECT_TRUE(ValidateDaemonOptions(o).ok());
  o.tls_cert = s.Path("cert.pem");
  o.tls_key = s.Path("key.pem");
  o.tls_client_ca = s.Path("cert.pem");
  o.auth_tokens = s.Path("tokens");
  EXPECT_TRUE(ValidateDaemonOptions(o).ok()) << ValidateDaemonOptions(o).message();

  struct Case {
    std::function<void(DaemonOptions&)> change;
    std::string expected;
  };
  const Case cases[] = {
      {[](DaemonOptions& d) { d.tls_key.clear(); },
       "--tls-cert is set but --tls-key is not: TLS needs both"},
      {[](DaemonOptions& d) { d.tls_cert.clear(); },
       "--tls-key is set but --tls-cert is not: TLS needs both"},
      {[](DaemonOptions& d) { d.tls_cert.clear(), d.tls_key.clear(); },
       "--tls-client-ca needs --tls-cert and --tls-key"},
      {[&](DaemonOptions& d) { d.tls_cert = s.Path("missing.pem"); },
       "--tls-cert " + s.Path("missing.pem") + ": cannot read: No such file or directory"},
      {[&](DaemonOptions& d) { d.tls_cert = s.Path("garbage.pem"); },
       "--tls-cert " + s.Path("garbage.pem") + ": no PEM certificate in it"},
      {[&](DaemonOptions& d) { d.tls_key = s.Path("garbage.pem"); },
       "--tls-key " + s.Path("garbage.pem") + ": no PEM private key in it"},
      {[&](DaemonOptions& d) { d.tls_key = s.Path("other-key.pem"); },
       "--tls-key " + s.Path("other-key.pem") + " does not match the certificate in --tls-cert"},
      {[&](DaemonOptions& d) { d.tls_client_ca = s.Path("key.pem"); },
       "--tls-client-ca " + s.Path("key.pem") + ": no PEM certificate in it"},
      {[&](DaemonOptions& d) { d.auth_tokens = s.Path("bad-tokens"); },
       "--auth-tokens " + s.Path("bad-tokens") + ":3: expected"},
      {[&](DaemonOptions& d) { d.auth_tokens = s.Path("missing"); },
       "--auth-tokens " + s.Path("missing") + ": cannot read"},
      {[](DaemonOptions& d) {
         d.cors_allow_origins = {"*", "example.com"};
       },
       "--cors-allow-origin 'example.com'"},
      {[](DaemonOptions& d) { d.grpc_port = 70000; }, "--grpc-port 70000 is not a port number"},
  };
  for (const auto& c : cases) {
    DaemonOptions bad = o;
    c.change(bad);
    Status st = ValidateDaemonOptions(bad);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << c.expected;
    EXPECT_EQ(st.message().rfind(c.expected, 0), 0u) << st.message();
  }
}

TEST(DaemonOptionsTest, ParseFailsWithExitCode2OnABadSecurityFlag) {
  Scratch s;
  int exit_code = -1;
  EXPECT_EQ(Parse({"--tls-cert", s.Path("cert.pem")}, &exit_code), std::nullopt);
  EXPECT_EQ(exit_code, 2);
  exit_code = -1;
  auto ok = Parse({"--tls-cert", s.Path("cert.pem"), "--tls-key", s.Path("key.pem"),
                   "--auth-tokens", s.Path("tokens"), "--host", "0.0.0.0"},
                  &exit_code);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->tls_key, s.Path("key.pem"));
  EXPECT_EQ(ok->host, "0.0.0.0");
}

TEST(DaemonOptionsTest, ModelControlModeDefaultsToNoneAndIsChecked) {
  int code = -1;
  auto o = Parse({}, &code);
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->model_control_mode, "none");
  EXPECT_EQ(o->repository_poll_secs, 5);
  EXPECT_TRUE(ValidateDaemonOptions(*o).ok());

  o->model_control_mode = "reload";
  Status s = ValidateDaemonOptions(*o);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--model-control-mode 'reload'"), std::string::npos) << s.message();

  o->model_control_mode = "poll";
  o->repository_poll_secs = 0;
  s = ValidateDaemonOptions(*o);
  EXPECT_NE(s.message().find("--repository-poll-secs 0"), std::string::npos) << s.message();
  o->repository_poll_secs = 1;
  EXPECT_TRUE(ValidateDaemonOptions(*o).ok());
}

}  // namespace
}  // namespace modelgate
