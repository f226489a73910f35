// HttpServer: accepts HTTP/1.1 connections (keep-alive) and runs one session
// per connection on the io thread. A session reads one request at a time
// (body limit, header limit, read timeout), hands it to the handler and writes
// the one response in a single gather write with TCP_NODELAY. While a request
// is being answered the session watches the socket: if the client closes it,
// the request is withdrawn (a queued request never runs).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "frontend/http/http_types.h"
#include "modelgate/status.h"

namespace modelgate {

struct HttpLimits {
  size_t max_body_bytes = 64u * 1024u * 1024u;
  static constexpr uint32_t kMaxHeaderBytes = 16 * 1024;
  // Idle keep-alive and slow-client limit for reading one request.
  std::chrono::seconds read_timeout{30};
  std::chrono::seconds write_timeout{30};
  int max_connections = 1024;
};

// Handles one request; returns how to withdraw it if the client disconnects
// before the answer (empty when there is nothing to withdraw).
using HttpHandler = std::function<HttpCancel(HttpRequest&&, HttpRespond)>;

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, HttpLimits limits, HttpHandler handler);
  ~HttpServer();

  // Binds and starts accepting; returns the bound port (useful with port 0).
  StatusOr<uint16_t> Listen(const std::string& host, uint16_t port);
  // Stops accepting new connections; open sessions finish their request.
  void StopAccepting();

 private:
  void Accept();

  boost::asio::io_context& io_;
  HttpLimits limits_;
  HttpHandler handler_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::shared_ptr<int> connections_ = std::make_shared<int>(0);  // io thread only
};

}  // namespace modelgate
