// HttpSession<Stream>: one HTTP/1.1 connection of an HttpServer, over a
// plain beast::tcp_stream or a beast::ssl_stream<beast::tcp_stream> (one
// implementation for both). Internal to http_server.cc.
//
// One request at a time, in phases with their own timeouts (HttpLimits):
//   [TLS handshake] -> idle (wait for a first byte; evictable) -> header ->
//   header checks (request_header_checks.h; 100 Continue if asked) -> body ->
//   handler -> response -> idle again (keep-alive) or close.
// A request that cannot be read to its end is answered and the connection
// closed without losing the answer (LingeringClose).
//
// Without a slot (every one busy) the session only serves probe requests
// (HttpLimits::probe_paths), one, with short timeouts, then closes; anything
// else is answered 503.
//
// Threading: everything on the server's io thread; the session keeps itself
// alive through its pending operations (shared_from_this).
#pragma once

#include <array>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <type_traits>

#include "common/retry_after.h"
#include "frontend/http/http_server.h"
#include "frontend/http/request_header_checks.h"
#include "modelgate/log_event.h"
#include "spdlog/spdlog.h"

namespace modelgate {

template <class Stream>
class HttpSession : public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  static constexpr bool kTls =
      !std::is_same_v<std::remove_cvref_t<Stream>, boost::beast::tcp_stream>;
  // Read size while waiting for a request and while watching for a
  // disconnect (pipelined bytes beyond it wait in the kernel).
  static constexpr size_t kReadChunkBytes = 4096;
  // How long a refused or failed request's connection drains what the client
  // still sends before it is closed.
  static constexpr std::chrono::seconds kLingerTime{2};
  // How long a TLS close waits for the client's close_notify.
  static constexpr std::chrono::seconds kTlsCloseTime{1};
  static constexpr size_t kDrainBufferBytes = 16 * 1024;

  // `slot` is null when the server is full: the session serves one probe
  // request (HttpLimits::probe_paths), else answers 503 (plain) or closes
  // (TLS without probe paths) and ends; it then holds `probe_slot` (one of
  // HttpLimits::kMaxProbeConnections) until it ends.
  HttpSession(Stream stream, std::shared_ptr<const HttpServer::Shared> shared,
              std::unique_ptr<ConnectionSlots::Slot> slot,
              std::shared_ptr<boost::asio::ssl::context> tls = nullptr,
              std::unique_ptr<ConnectionSlots::Slot> probe_slot = nullptr)
      : tls_(std::move(tls)),
        stream_(std::move(stream)),
        shared_(std::move(shared)),
        slot_(std::move(slot)),
        probe_slot_(std::move(probe_slot)) {}

  void Start() {
    if (!slot_ && Limits().probe_paths.empty()) {
      if constexpr (kTls) {
        Lowest().close();
      } else {
        RefuseFull();
      }
      return;
    }
    if constexpr (kTls) {
      if (slot_) slot_->SetIdle(EvictCallback());
      Lowest().expires_after(slot_ ? Limits().header_timeout
                                   : HttpLimits::kFullServerHeaderTimeout);
      stream_.async_handshake(
          boost::asio::ssl::stream_base::server,
          [self = this->shared_from_this()](boost::beast::error_code ec) {
            if (self->slot_) self->slot_->SetBusy();
            if (ec) {
              // Scanners and plain-HTTP clients end here: debug only.
              error_code ignored;
              const auto peer = self->Lowest().socket().remote_endpoint(ignored);
              LogDebug("tls handshake failed",
                       {{"peer", peer.address().to_string()}, {"error", ec.message()}});
              self->Lowest().close();
              return;
            }
            self->WaitForRequest();
          });
    } else {
      WaitForRequest();
    }
  }

 private:
  using error_code = boost::beast::error_code;

  const HttpLimits& Limits() const { return shared_->limits; }

  void RefuseFull() {
    Fail(503, "too many open connections (" + std::to_string(Limits().max_connections) +
                  "); retry later");
  }
  boost::beast::tcp_stream& Lowest() { return boost::beast::get_lowest_layer(stream_); }

  // Closing the socket ends the pending read, and with it the session.
  std::function<void()> EvictCallback() {
    return [weak = this->weak_from_this()] {
      if (auto self = weak.lock()) self->Lowest().close();
    };
  }

  // Idle: waits for the first byte of the next request (evictable).
  void WaitForRequest() {
    if (buffer_.size() > 0) {  // a pipelined request is already here
      ReadHeader();
      return;
    }
    if (slot_) slot_->SetIdle(EvictCallback());
    Lowest().expires_after(slot_ ? Limits().idle_timeout : HttpLimits::kFullServerHeaderTimeout);
    stream_.async_read_some(buffer_.prepare(kReadChunkBytes),
                            [self = this->shared_from_this()](error_code ec, size_t n) {
                              if (self->slot_) self->slot_->SetBusy();
                              if (ec) {
                                self->Close();  // idle timeout, eviction or the client left
                                return;
                              }
                              self->buffer_.commit(n);
                              self->ReadHeader();
                            });
  }

  void ReadHeader() {
    parser_.emplace();
    parser_->body_limit(Limits().max_body_bytes);
    parser_->header_limit(HttpLimits::kMaxHeaderBytes);
    Lowest().expires_after(slot_ ? Limits().header_timeout : HttpLimits::kFullServerHeaderTimeout);
    boost::beast::http::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(error_code ec) {
    if (ec) {
      OnReadError(ec);
      return;
    }
    keep_alive_ = slot_ && parser_->get().keep_alive();
    if (!slot_ && !IsProbeRequest(parser_->get().base(), Limits().probe_paths)) {
      RefuseFull();
      return;
    }
    HeaderVerdict verdict = CheckRequestHeader(parser_->get().base());
    if (verdict.status != 0) {
      Fail(verdict.status, verdict.message);
      return;
    }
    if (verdict.expect_continue && !parser_->is_done()) {
      SendContinue();
      return;
    }
    ReadBody();
  }

  // The header is acceptable: tell the client to send the body.
  void SendContinue() {
    continue_.emplace(boost::beast::http::status::continue_, 11);
    Lowest().expires_after(Limits().write_timeout);
    boost::beast::http::async_write(stream_, *continue_,
                                    [self = this->shared_from_this()](error_code ec, size_t) {
                                      self->continue_.reset();
                                      if (ec) {
                                        self->Close();
                                        return;
                                      }
                                      self->ReadBody();
                                    });
  }

  void ReadBody() {
    if (parser_->is_done()) {
      OnRequest();
      return;
    }
    Lowest().expires_after(Limits().body_timeout);
    boost::beast::http::async_read(stream_, buffer_, *parser_,
                                   [self = this->shared_from_this()](error_code ec, size_t) {
                                     if (ec) {
                                       self->OnReadError(ec);
                                       return;
                                     }
                                     self->OnRequest();
                                   });
  }

  void OnReadError(error_code ec) {
    namespace http = boost::beast::http;
    if (ec == http::error::body_limit) {
      Fail(413, "request body exceeds the limit of " + std::to_string(Limits().max_body_bytes) +
                    " bytes");
      return;
    }
    if (ec == http::error::header_limit) {
      Fail(431, "request headers exceed the limit of " +
                    std::to_string(HttpLimits::kMaxHeaderBytes) + " bytes");
      return;
    }
    // Unparsable HTTP gets a 400; a closed connection or a timeout (which
    // closed the socket) has nobody to answer.
    if (ec != http::error::end_of_stream && ec != http::error::partial_message &&
        ec.category() == http::make_error_code(http::error::bad_method).category()) {
      Fail(400, "malformed HTTP request: " + ec.message());
      return;
    }
    Close();
  }

  void OnRequest() {
    HttpRequest req = parser_->release();
    parser_.reset();
    keep_alive_ = slot_ && req.keep_alive();  // a probe without a slot: one request
    Lowest().expires_never();                 // the request's own deadline governs from here
    answered_ = false;
    cancel_ = shared_->handler(std::move(req), [self = this->shared_from_this()](HttpResponse res) {
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
    stream_.async_read_some(buffer_.prepare(kReadChunkBytes), [self = this->shared_from_this()](
                                                                  error_code ec, size_t n) {
      self->watching_ = false;
      self->buffer_.commit(n);
      if (ec && ec != boost::asio::error::operation_aborted && self->cancel_) {
        HttpCancel cancel = std::move(self->cancel_);
        self->cancel_ = nullptr;
        cancel();
      }
      if (self->read_after_watch_) {
        self->read_after_watch_ = false;
        self->WaitForRequest();
      }
    });
  }

  // Answers a request that cannot be read to its end, then closes the
  // connection without losing the answer (see LingeringClose).
  void Fail(unsigned status, const std::string& message) {
    namespace http = boost::beast::http;
    HttpResponse res{static_cast<http::status>(status), 11};
    res.set(http::field::content_type, "application/json");
    if (status == 503) res.set(http::field::retry_after, std::to_string(kRetryAfterSeconds));
    res.body() = nlohmann::json{{"error", message}}.dump(-1, ' ', false,
                                                         nlohmann::json::error_handler_t::replace);
    keep_alive_ = false;
    linger_ = true;
    Send(std::move(res));
  }

  void Send(HttpResponse res) {
    res.keep_alive(keep_alive_);
    res.prepare_payload();
    response_ = std::move(res);
    Lowest().expires_after(Limits().write_timeout);
    boost::beast::http::async_write(stream_, *response_,
                                    [self = this->shared_from_this()](error_code ec, size_t) {
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
                                        // Only one read at a time: stop the watch, read on when it
                                        // ends.
                                        self->read_after_watch_ = true;
                                        self->Lowest().cancel();
                                        return;
                                      }
                                      self->WaitForRequest();
                                    });
  }

  // The client may still be sending the body we refused. Closing now would
  // reset the connection and destroy our answer in its receive buffer, so
  // stop sending, discard what still arrives (bounded in time), then close.
  void LingeringClose() {
    error_code ignored;
    Lowest().socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
    Lowest().expires_after(kLingerTime);
    Drain();
  }

  void Drain() {
    Lowest().async_read_some(boost::asio::buffer(drain_buf_),
                             [self = this->shared_from_this()](error_code ec, size_t) {
                               if (ec) {
                                 self->Lowest().close();
                                 return;
                               }
                               self->Drain();
                             });
  }

  void Close() {
    if constexpr (kTls) {
      if (watching_) {  // no TLS shutdown beside a pending read
        Lowest().close();
        return;
      }
      if (Lowest().socket().is_open()) {
        // close_notify, then wait (briefly) for the client's.
        Lowest().expires_after(kTlsCloseTime);
        stream_.async_shutdown(
            [self = this->shared_from_this()](error_code) { self->Lowest().close(); });
      }
    } else {
      error_code ignored;
      Lowest().socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
      Lowest().close();
    }
  }

  std::shared_ptr<boost::asio::ssl::context> tls_;  // outlives stream_, which uses it
  Stream stream_;
  std::shared_ptr<const HttpServer::Shared> shared_;
  std::unique_ptr<ConnectionSlots::Slot> slot_;
  std::unique_ptr<ConnectionSlots::Slot> probe_slot_;  // held while serving without a slot
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  std::optional<boost::beast::http::response<boost::beast::http::empty_body>> continue_;
  std::optional<HttpResponse> response_;
  bool keep_alive_ = true;
  bool linger_ = false;
  bool answered_ = false;
  bool watching_ = false;
  bool read_after_watch_ = false;
  HttpCancel cancel_;
  std::array<char, kDrainBufferBytes> drain_buf_;
};

}  // namespace modelgate
