#include "frontend/http/http_server.h"

#include <cerrno>

#include "frontend/http/http_session.h"
#include "modelgate/log_event.h"
#include "spdlog/spdlog.h"

namespace modelgate {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

HttpServer::HttpServer(asio::io_context& io, HttpLimits limits, HttpHandler handler,
                       std::string name)
    : io_(io),
      name_(std::move(name)),
      shared_(std::make_shared<const Shared>(
          Shared{limits, std::move(handler),
                 ConnectionSlots::Create(static_cast<size_t>(std::max(limits.max_connections, 1))),
                 ConnectionSlots::Create(HttpLimits::kMaxProbeConnections)})),
      acceptor_(io),
      accept_retry_(io) {}

HttpServer::~HttpServer() = default;

Status HttpServer::EnableTls(const TlsConfig& config) {
  auto tls = TlsContext::Load(config);
  if (!tls.ok()) return tls.status();
  tls_ = std::move(tls).value();
  return Status::Ok();
}

Status HttpServer::ReloadTls() {
  if (!tls_) return Status::Ok();
  Status s = tls_->Reload();
  if (s.ok()) {
    LogInfo("tls reloaded", {{"listener", name_}, {"cert", tls_->config().cert_file}});
  } else {
    LogError("tls reload failed, keeping the previous certificate",
             {{"listener", name_}, {"error", s.message()}});
  }
  return s;
}

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
    return Unavailable(name_ + " listener on " + host + ":" + std::to_string(port) + ": " +
                       ec.message());
  }
  Accept();
  return acceptor_.local_endpoint().port();
}

void HttpServer::Accept() {
  acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      OnAcceptError(ec);
      return;
    }
    backoff_.OnSuccess();
    StartSession(std::move(socket));
    Accept();
  });
}

void HttpServer::OnAcceptError(const beast::error_code& ec) {
  // Out of descriptors while connections sit idle: close the one idle
  // longest (its descriptor is free at once) and take the new client.
  const bool no_descriptors =
      ec == asio::error::no_descriptors || (ec.category() == asio::error::get_system_category() &&
                                            (ec.value() == EMFILE || ec.value() == ENFILE));
  if (no_descriptors && shared_->slots->EvictOldestIdle()) {
    Accept();
    return;
  }
  const AcceptBackoff::Step step = backoff_.OnFailure(AcceptBackoff::Clock::now());
  if (step.log) {
    LogWarn("accept failed", {{"listener", name_},
                              {"error", ec.message()},
                              {"retry_ms", step.delay.count()},
                              {"suppressed", step.suppressed}});
  }
  accept_retry_.expires_after(step.delay);
  accept_retry_.async_wait([this](beast::error_code wait_ec) {
    if (!wait_ec && acceptor_.is_open()) Accept();
  });
}

void HttpServer::StartSession(tcp::socket socket) {
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  auto slot = shared_->slots->Acquire();
  // A full server serves probes on a bounded side pool (its slots are never
  // set idle, so never evicted); past that the connection is closed.
  std::unique_ptr<ConnectionSlots::Slot> probe_slot;
  if (!slot) {
    probe_slot = shared_->probe_slots->Acquire();
    if (!probe_slot) {
      socket.close(ignored);
      return;
    }
  }
  if (tls_) {
    auto ctx = tls_->Current();
    using TlsStream = beast::ssl_stream<beast::tcp_stream>;
    TlsStream stream(beast::tcp_stream(std::move(socket)), *ctx);
    std::make_shared<HttpSession<TlsStream>>(std::move(stream), shared_, std::move(slot),
                                             std::move(ctx), std::move(probe_slot))
        ->Start();
  } else {
    std::make_shared<HttpSession<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)), shared_,
                                                     std::move(slot), nullptr,
                                                     std::move(probe_slot))
        ->Start();
  }
}

void HttpServer::StopAccepting() {
  beast::error_code ignored;
  acceptor_.close(ignored);
  accept_retry_.cancel();
}

}  // namespace modelgate
