#include "security/tls_files.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace modelgate {

namespace {

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<FILE, FileCloser>;
using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

StatusOr<File> Open(std::string_view flag, const std::string& path) {
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) {
    return InvalidArgument(std::string(flag) + " " + path +
                           ": cannot read: " + std::strerror(errno));
  }
  return f;
}

// A private key file never prompts: an encrypted key is an error.
int NoPassword(char*, int, int, void*) { return 0; }

}  // namespace

Status CheckTlsFiles(const std::string& cert, const std::string& key,
                     const std::string& client_ca) {
  // Leave no failed read on this thread's OpenSSL error queue for gRPC to trip on.
  struct ClearErrors {
    ~ClearErrors() { ERR_clear_error(); }
  } clear_errors;
  if (cert.empty() && key.empty() && client_ca.empty()) return Status::Ok();
  if (cert.empty() || key.empty()) {
    return InvalidArgument(
        cert.empty() && key.empty() ? "--tls-client-ca needs --tls-cert and --tls-key (mutual TLS "
                                      "runs over TLS)"
        : cert.empty()              ? "--tls-key is set but --tls-cert is not: TLS needs both"
                                    : "--tls-cert is set but --tls-key is not: TLS needs both");
  }
  auto cert_file = Open("--tls-cert", cert);
  if (!cert_file.ok()) return cert_file.status();
  X509Ptr x509(PEM_read_X509(cert_file->get(), nullptr, nullptr, nullptr), X509_free);
  if (!x509) return InvalidArgument("--tls-cert " + cert + ": no PEM certificate in it");

  auto key_file = Open("--tls-key", key);
  if (!key_file.ok()) return key_file.status();
  KeyPtr pkey(PEM_read_PrivateKey(key_file->get(), nullptr, NoPassword, nullptr), EVP_PKEY_free);
  if (!pkey) {
    return InvalidArgument("--tls-key " + key +
                           ": no PEM private key in it (encrypted keys are not supported)");
  }
  if (X509_check_private_key(x509.get(), pkey.get()) != 1) {
    return InvalidArgument("--tls-key " + key + " does not match the certificate in --tls-cert " +
                           cert);
  }
  if (!client_ca.empty()) {
    auto ca_file = Open("--tls-client-ca", client_ca);
    if (!ca_file.ok()) return ca_file.status();
    X509Ptr ca(PEM_read_X509(ca_file->get(), nullptr, nullptr, nullptr), X509_free);
    if (!ca) return InvalidArgument("--tls-client-ca " + client_ca + ": no PEM certificate in it");
  }
  return Status::Ok();
}

}  // namespace modelgate
