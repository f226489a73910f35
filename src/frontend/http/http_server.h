// HttpServer: accepts HTTP/1.1 connections (keep-alive), plain or TLS, and
// runs one session per connection on the server's io_context. A session
// reads one request at a time, checks its header (http_session.h), hands it
// to the handler and writes the one response in a single gather write with
// TCP_NODELAY. While a request is being answered the session watches the
// socket: if the client closes it, the request is withdrawn.
//
// Protection against clients that hold connections (see HttpLimits): each
// phase of a request has its own timeout; connections are bounded by
// max_connections, and when all are taken the connection idle longest is
// closed for the new one (connection_slots.h); when every slot is busy, probe
// requests are still answered (HttpLimits::probe_paths); accept() failures such as
// EMFILE back off instead of spinning (accept_backoff.h).
//
// Threading: construct, Listen and StopAccepting on the io_context's thread
// (or before it runs); ReloadTls from any thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/limits.h"
#include "frontend/http/accept_backoff.h"
#include "frontend/http/connection_slots.h"
#include "frontend/http/http_types.h"
#include "frontend/http/tls_context.h"
#include "modelgate/status.h"

namespace modelgate {

struct HttpLimits {
  // Defaults. Idle is short because an idle connection costs a slot and a
  // descriptor and reopening one costs a client one round trip; a header of
  // at most kMaxHeaderBytes takes any live client well under the header
  // timeout; the body timeout is for the whole body (kDefaultMaxRequestBytes
  // at 1.1 MB/s).
  static constexpr std::chrono::milliseconds kDefaultIdleTimeout{5'000};
  static constexpr std::chrono::milliseconds kDefaultHeaderTimeout{10'000};
  static constexpr std::chrono::milliseconds kDefaultBodyTimeout{60'000};
  static constexpr std::chrono::milliseconds kDefaultWriteTimeout{30'000};
  static constexpr uint32_t kMaxHeaderBytes = 16 * 1024;

  size_t max_body_bytes = kDefaultMaxRequestBytes;
  // Waiting for the first byte of a request: on a fresh connection (and its
  // TLS handshake) and between keep-alive requests.
  std::chrono::milliseconds idle_timeout = kDefaultIdleTimeout;
  // From the first byte of a request to the end of its header.
  std::chrono::milliseconds header_timeout = kDefaultHeaderTimeout;
  // From the end of the header (or the 100 Continue) to the end of the body.
  std::chrono::milliseconds body_timeout = kDefaultBodyTimeout;
  // Writing one response (or the 100 Continue).
  std::chrono::milliseconds write_timeout = kDefaultWriteTimeout;
  int max_connections = kDefaultMaxConnections;
  // GET paths (health probes, scrapes) still served when every slot is held
  // by a busy connection: slow clients mid-request must not fail probes. Such
  // a connection has kFullServerHeaderTimeout for its TLS handshake and for
  // its header; a probe is answered and the connection closed, anything else
  // gets 503. Empty: every connection beyond the limit gets 503 (TLS: closed).
  std::vector<std::string> probe_paths;
  static constexpr std::chrono::milliseconds kFullServerHeaderTimeout{2'000};
  // Connections served that way at once; beyond it a connection arriving at
  // a full server is closed at once, so a flood cannot turn the probe path
  // into unbounded descriptors.
  static constexpr size_t kMaxProbeConnections = 64;
};

// Handles one request; returns how to withdraw it if the client disconnects
// before the answer (empty when there is nothing to withdraw).
using HttpHandler = std::function<HttpCancel(HttpRequest&&, HttpRespond)>;

class HttpServer {
 public:
  // `name` labels the listener in log lines ("http", "metrics").
  HttpServer(boost::asio::io_context& io, HttpLimits limits, HttpHandler handler,
             std::string name = "http");
  ~HttpServer();

  // Serves TLS from now on (call before Listen); INVALID_ARGUMENT naming the
  // file when the certificate, key or client CA cannot be used.
  Status EnableTls(const TlsConfig& config);
  // Re-reads the TLS files for new connections; on error the old ones stay.
  // OK and nothing happens without TLS. Any thread.
  Status ReloadTls();
  bool tls() const { return tls_ != nullptr; }

  // Binds and starts accepting; returns the bound port (useful with port 0).
  StatusOr<uint16_t> Listen(const std::string& host, uint16_t port);
  // Stops accepting new connections; open sessions finish their request.
  void StopAccepting();

  // What every session of this server shares (and keeps alive).
  struct Shared {
    HttpLimits limits;
    HttpHandler handler;
    std::shared_ptr<ConnectionSlots> slots;
    std::shared_ptr<ConnectionSlots> probe_slots;  // kMaxProbeConnections, never evicted
  };

 private:
  void Accept();
  void OnAcceptError(const boost::system::error_code& ec);
  void StartSession(boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io_;
  const std::string name_;
  std::shared_ptr<const Shared> shared_;
  std::unique_ptr<TlsContext> tls_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_retry_;
  AcceptBackoff backoff_;
};

}  // namespace modelgate
