#include "frontend/http/metrics_endpoint.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>

namespace modelgate {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

// One GET over a fresh loopback connection, from the test thread.
http::response<http::string_body> Get(uint16_t port, const std::string& target) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  return res;
}

std::vector<PoolSnapshot> OnePool() {
  PoolSnapshot s;
  s.model = "m";
  s.version = "1";
  s.queue_depth = 3;
  return {s};
}

TEST(MetricsEndpointTest, ServesTheRegistryAndThePoolStateReadOnTheStateThread) {
  Metrics metrics;
  metrics.ForModel("m", "1").RecordRequest(Protocol::kHttp, StatusCode::kOk, 0.01);
  asio::io_context state_io;
  auto work = asio::make_work_guard(state_io);
  std::thread::id snapshot_thread;
  std::thread state_thread([&] { state_io.run(); });
  {
    MetricsEndpoint endpoint(metrics, state_io, [&] {
      snapshot_thread = std::this_thread::get_id();
      return OnePool();
    });
    auto port = endpoint.Start("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    auto res = Get(*port, "/metrics");
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res[http::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_NE(res.body().find("modelgate_queue_depth{model=\"m\",version=\"1\"} 3"),
              std::string::npos)
        << res.body();
    EXPECT_NE(res.body().find("modelgate_requests_total{"), std::string::npos);
    EXPECT_EQ(snapshot_thread, state_thread.get_id());
    EXPECT_EQ(Get(*port, "/other").result_int(), 404);
  }
  work.reset();
  state_thread.join();
}

TEST(MetricsEndpointTest, AStalledStateThreadDelaysTheScrapeButNeverBlocksIt) {
  Metrics metrics;
  asio::io_context state_io;  // never run: the daemon's io thread is stuck
  // A 1 ms bound instead of kSnapshotTimeout: the test needs the timeout path,
  // not its length (the snapshot can never arrive here).
  MetricsEndpoint endpoint(
      metrics, state_io, [] { return OnePool(); }, std::chrono::milliseconds(1));
  auto port = endpoint.Start("127.0.0.1", 0);
  ASSERT_TRUE(port.ok());
  auto res = Get(*port, "/metrics");  // answered at the bound, without the pool series
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body().find("modelgate_queue_depth{"), std::string::npos);
  EXPECT_NE(res.body().find("process_open_fds"), std::string::npos);
  endpoint.Stop();
}

}  // namespace
}  // namespace modelgate
