#include "frontend/http/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/system/system_error.hpp>

namespace modelgate {

namespace ssl = boost::asio::ssl;

namespace {

// The reason of a failed call: OpenSSL's queued error if any, else `ec`.
std::string Reason(const boost::system::error_code& ec) {
  std::string reason = ec.message();
  if (unsigned long e = ERR_peek_last_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    reason = buf;
  }
  ERR_clear_error();
  return reason;
}

}  // namespace

StatusOr<std::shared_ptr<ssl::context>> TlsContext::Build(const TlsConfig& c) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use,
                   ec);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  ERR_clear_error();
  if (ctx->use_certificate_chain_file(c.cert_file, ec); ec) {
    return InvalidArgument("TLS certificate file '" + c.cert_file + "': " + Reason(ec));
  }
  if (ctx->use_private_key_file(c.key_file, ssl::context::pem, ec); ec) {
    return InvalidArgument("TLS key file '" + c.key_file + "': " + Reason(ec));
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    ERR_clear_error();
    return InvalidArgument("TLS key file '" + c.key_file + "' does not match the certificate in '" +
                           c.cert_file + "'");
  }
  if (!c.client_ca_file.empty()) {
    if (ctx->load_verify_file(c.client_ca_file, ec); ec) {
      return InvalidArgument("TLS client CA file '" + c.client_ca_file + "': " + Reason(ec));
    }
    // Tell clients which CAs are accepted, so they pick the right certificate.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(c.client_ca_file.c_str())) {
      SSL_CTX_set_client_CA_list(ctx->native_handle(), names);
    }
    ERR_clear_error();
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert, ec);
  }
  return ctx;
}

StatusOr<std::unique_ptr<TlsContext>> TlsContext::Load(const TlsConfig& config) {
  if (config.cert_file.empty() || config.key_file.empty()) {
    return InvalidArgument("TLS needs both --tls-cert and --tls-key");
  }
  auto ctx = Build(config);
  if (!ctx.ok()) return ctx.status();
  return std::unique_ptr<TlsContext>(new TlsContext(config, std::move(ctx).value()));
}

std::shared_ptr<ssl::context> TlsContext::Current() const {
  MutexLock lock(mu_);
  return current_;
}

Status TlsContext::Reload() {
  auto ctx = Build(config_);
  if (!ctx.ok()) return ctx.status();
  MutexLock lock(mu_);
  current_ = std::move(ctx).value();
  return Status::Ok();
}

}  // namespace modelgate
