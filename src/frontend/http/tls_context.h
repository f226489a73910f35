// TlsContext: the server-side TLS settings of one listener, loaded from PEM
// files and reloadable (SIGHUP) without dropping connections.
//
// - cert_file: the certificate chain (leaf first); key_file: its private key.
// - client_ca_file (optional): mutual TLS. Clients must present a certificate
//   signed by one of these CAs; a handshake without one fails.
// TLS 1.2 is the minimum. A connection keeps the context it was accepted
// with (Current() hands out shared ownership); Reload() builds a new context
// from the files and swaps it in for new connections, or, when a file is bad,
// keeps the old one and returns the error.
//
// Threading: Current() and Reload() are safe from any thread.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "common/mutex.h"
#include "modelgate/status.h"

namespace modelgate {

struct TlsConfig {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;  // empty: no client certificates asked for

  bool enabled() const {
    return !cert_file.empty() || !key_file.empty() || !client_ca_file.empty();
  }
};

class TlsContext {
 public:
  // INVALID_ARGUMENT naming the file and the reason when the settings are
  // incomplete or a file cannot be used.
  static StatusOr<std::unique_ptr<TlsContext>> Load(const TlsConfig& config);

  std::shared_ptr<boost::asio::ssl::context> Current() const EXCLUDES(mu_);
  // Re-reads the files. On error the previous context stays in use.
  Status Reload() EXCLUDES(mu_);
  const TlsConfig& config() const { return config_; }

 private:
  explicit TlsContext(TlsConfig config, std::shared_ptr<boost::asio::ssl::context> ctx)
      : config_(std::move(config)), current_(std::move(ctx)) {}
  static StatusOr<std::shared_ptr<boost::asio::ssl::context>> Build(const TlsConfig& config);

  const TlsConfig config_;
  mutable Mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> current_ GUARDED_BY(mu_);
};

}  // namespace modelgate
