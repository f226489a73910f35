#include "frontend/http/metrics_endpoint.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace modelgate {

namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

HttpResponse Text(http::status status, std::string content_type, std::string body) {
  HttpResponse res{status, 11};
  res.set(http::field::server, "modelgate");
  res.set(http::field::content_type, std::move(content_type));
  res.body() = std::move(body);
  return res;
}

// One scrape waiting for the pool snapshot (endpoint thread only).
struct Scrape {
  explicit Scrape(asio::io_context& io) : timer(io) {}
  asio::steady_timer timer;
  HttpRespond respond;
  bool answered = false;
};

}  // namespace

MetricsEndpoint::MetricsEndpoint(Metrics& metrics, asio::io_context& state_io,
                                 std::function<std::vector<PoolSnapshot>()> snapshot,
                                 std::chrono::milliseconds snapshot_timeout)
    : metrics_(metrics),
      state_io_(state_io),
      snapshot_(std::move(snapshot)),
      snapshot_timeout_(snapshot_timeout) {
  HttpLimits limits;
  limits.max_body_bytes = kMaxBodyBytes;
  limits.max_connections = kMaxConnections;
  limits.probe_paths = {"/metrics"};
  server_ = std::make_unique<HttpServer>(
      io_, limits,
      [this](HttpRequest&& req, HttpRespond respond) {
        return Handle(std::move(req), std::move(respond));
      },
      "metrics");
}

MetricsEndpoint::~MetricsEndpoint() { Stop(); }

Status MetricsEndpoint::EnableTls(const TlsConfig& config) { return server_->EnableTls(config); }

Status MetricsEndpoint::ReloadTls() { return server_->ReloadTls(); }

StatusOr<uint16_t> MetricsEndpoint::Start(const std::string& host, uint16_t port) {
  auto bound = server_->Listen(host, port);
  if (!bound.ok()) return bound;
  thread_ = std::thread([this] {
    auto work = asio::make_work_guard(io_);
    io_.run();
  });
  return bound;
}

void MetricsEndpoint::Stop() {
  if (!thread_.joinable()) return;
  asio::post(io_, [this] {
    server_->StopAccepting();
    io_.stop();
  });
  thread_.join();
}

HttpCancel MetricsEndpoint::Handle(HttpRequest&& request, HttpRespond respond) {
  const std::string_view target(request.target().data(), request.target().size());
  if (target.substr(0, target.find('?')) != "/metrics") {
    respond(Text(http::status::not_found, "text/plain", "only /metrics is served here\n"));
    return {};
  }
  if (request.method() != http::verb::get) {
    HttpResponse res = Text(http::status::method_not_allowed, "text/plain", "use GET\n");
    res.set(http::field::allow, "GET");
    respond(std::move(res));
    return {};
  }
  auto scrape = std::make_shared<Scrape>(io_);
  scrape->respond = std::move(respond);
  // Whichever comes first answers: the snapshot or the timeout.
  auto answer = [this](const std::shared_ptr<Scrape>& s, const std::vector<PoolSnapshot>& pools) {
    if (s->answered) return;
    s->answered = true;
    s->timer.cancel();
    s->respond(Text(http::status::ok, "text/plain; version=0.0.4; charset=utf-8",
                    metrics_.Serialize(pools)));
  };
  scrape->timer.expires_after(snapshot_timeout_);
  scrape->timer.async_wait([scrape, answer](boost::system::error_code ec) {
    if (!ec) answer(scrape, {});
  });
  asio::post(state_io_, [this, weak = std::weak_ptr<Scrape>(scrape), answer] {
    auto pools = std::make_shared<std::vector<PoolSnapshot>>(snapshot_());
    asio::post(io_, [weak, answer, pools] {
      if (auto s = weak.lock()) answer(s, *pools);
    });
  });
  return {};
}

}  // namespace modelgate
