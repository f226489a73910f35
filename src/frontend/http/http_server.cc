#include "frontend/http/http_server.h"

#include <array>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <optional>

#include "spdlog/spdlog.h"

namespace modelgate {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const HttpLimits& limits, const HttpHandler& handler,
          std::shared_ptr<int> connections)
      : stream_(std::move(socket)),
        limits_(limits),
        handler_(handler),
        connections_(std::move(connections)) {
    ++*connections_;
  }
  ~Session() { --*connections_; }

  void Start() {
    if (*connections_ > limits_.max_connections) {
      Fail(503, "too many open connections (" + std::to_string(limits_.max_connections) +
                    "); retry later");
      return;
    }
    DoRead();
  }

 private:
  void DoRead() {
    parser_.emplace();
    parser_->body_limit(limits_.max_body_bytes);
    parser_->header_limit(HttpLimits::kMaxHeaderBytes);
    stream_.expires_after(limits_.read_timeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      Fail(413, "request body exceeds the limit of " + std::to_string(limits_.max_body_bytes) +
                    " bytes");
      return;
    }
    if (ec == http::error::header_limit) {
      Fail(431, "request headers exceed the limit");
      return;
    }
    if (ec) {
      // Unparsable HTTP gets a 400; a closed connection or an idle timeout
      // has nobody to answer.
      if (ec != http::error::end_of_stream && ec != http::error::partial_message &&
          ec.category() == http::make_error_code(http::error::bad_method).category()) {
        Fail(400, "malformed HTTP request: " + ec.message());
        return;
      }
      Close();
      return;
    }
    HttpRequest req = parser_->release();
    keep_alive_ = req.keep_alive();
    stream_.expires_never();  // the request's own deadline governs from here
    answered_ = false;
    cancel_ = handler_(std::move(req), [self = shared_from_this()](HttpResponse res) {
      self->answered_ = true;
      self->cancel_ = nullptr;
      self->Send(std::move(res));
    });
    if (!answered_ && cancel_) WatchForDisconnect();
  }

  // Reads while the answer is pending: EOF or an error means the client left,
  // so the request is withdrawn. Bytes that arrive (a pipelined request) stay
  // in buffer_ for the next read.
  void WatchForDisconnect() {
    watching_ = true;
    stream_.socket().async_read_some(
        buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, size_t n) {
          self->watching_ = false;
          self->buffer_.commit(n);
          if (ec && ec != asio::error::operation_aborted && self->cancel_) {
            HttpCancel cancel = std::move(self->cancel_);
            self->cancel_ = nullptr;
            cancel();
          }
          if (self->read_after_watch_) {
            self->read_after_watch_ = false;
            self->DoRead();
          }
        });
  }

  // Answers a request that cannot be read to its end, then closes the
  // connection without losing the answer (see LingeringClose).
  void Fail(unsigned status, const std::string& message) {
    HttpResponse res{static_cast<http::status>(status), 11};
    res.set(http::field::content_type, "application/json");
    if (status == 503) res.set(http::field::retry_after, "1");
    res.body() = "{\"error\":\"" + message + "\"}";
    keep_alive_ = false;
    linger_ = true;
    Send(std::move(res));
  }

  void Send(HttpResponse res) {
    res.keep_alive(keep_alive_);
    res.prepare_payload();
    response_ = std::move(res);
    stream_.expires_after(limits_.write_timeout);
    http::async_write(stream_, *response_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        self->response_.reset();
                        if (!ec && self->linger_) {
                          self->LingeringClose();
                          return;
                        }
                        if (ec || !self->keep_alive_) {
                          self->Close();
                          return;
                        }
                        if (self->watching_) {
                          // Only one read at a time: stop the watch, read on when it ends.
                          self->read_after_watch_ = true;
                          beast::error_code ignored;
                          self->stream_.socket().cancel(ignored);
                          return;
                        }
                        self->DoRead();
                      });
  }

  // The client may still be sending the body we refused. Closing now would
  // reset the connection and destroy our answer in its receive buffer, so
  // stop sending, discard what still arrives (bounded in time), then close.
  void LingeringClose() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kLingerTime);
    Drain();
  }

  void Drain() {
    stream_.async_read_some(asio::buffer(drain_buf_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) {
                                self->stream_.close();
                                return;
                              }
                              self->Drain();
                            });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  const HttpLimits& limits_;
  const HttpHandler& handler_;
  std::shared_ptr<int> connections_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<HttpResponse> response_;
  bool keep_alive_ = true;
  bool linger_ = false;
  bool answered_ = false;
  bool watching_ = false;
  bool read_after_watch_ = false;
  HttpCancel cancel_;
  std::array<char, 16 * 1024> drain_buf_;
  static constexpr std::chrono::seconds kLingerTime{2};
};

}  // namespace

HttpServer::HttpServer(asio::io_context& io, HttpLimits limits, HttpHandler handler)
    : io_(io), limits_(limits), handler_(std::move(handler)), acceptor_(io) {}

HttpServer::~HttpServer() = default;

StatusOr<uint16_t> HttpServer::Listen(const std::string& host, uint16_t port) {
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return InvalidArgument("--host '" + host + "' is not an IP address");
  tcp::endpoint ep(address, port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Unavailable("HTTP listener on " + host + ":" + std::to_string(port) + ": " +
                       ec.message());
  }
  Accept();
  return acceptor_.local_endpoint().port();
}

void HttpServer::Accept() {
  acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<Session>(std::move(socket), limits_, handler_, connections_)->Start();
    } else {
      spdlog::warn("http accept failed: {}", ec.message());
    }
    if (acceptor_.is_open()) Accept();
  });
}

void HttpServer::StopAccepting() {
  beast::error_code ignored;
  acceptor_.close(ignored);
}

}  // namespace modelgate
