// MetricsEndpoint: serves GET /metrics (Prometheus text format) on
// --metrics-port with the daemon's own HttpServer, so the endpoint has the
// same timeouts, idle-connection eviction and TLS as the REST port (idle
// connections cannot block scrapes).
//
// Threading: the endpoint runs its own io_context on its own thread, so a
// busy daemon io thread never delays the listener. Pool state lives on the
// daemon's io thread: a scrape posts `snapshot` there and answers when the
// result comes back, or after kSnapshotTimeout without the pool series.
// Nothing blocks either thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "frontend/http/http_server.h"
#include "observability/metrics.h"

namespace modelgate {

class MetricsEndpoint {
 public:
  static constexpr std::chrono::seconds kSnapshotTimeout{2};
  // Scrapers hold few connections; idle ones are evicted for new ones.
  static constexpr int kMaxConnections = 64;
  static constexpr size_t kMaxBodyBytes = 4 * 1024;

  // `snapshot` runs on `state_io`'s thread. `metrics` and `state_io` must
  // outlive the endpoint, and `state_io` must not run handlers after the
  // endpoint is destroyed (stop it first).
  // `snapshot_timeout` (kSnapshotTimeout unless a test shortens it) bounds
  // the wait for the pool state.
  MetricsEndpoint(Metrics& metrics, boost::asio::io_context& state_io,
                  std::function<std::vector<PoolSnapshot>()> snapshot,
                  std::chrono::milliseconds snapshot_timeout = kSnapshotTimeout);
  ~MetricsEndpoint();

  // TLS settings (before Start); INVALID_ARGUMENT naming a bad file.
  Status EnableTls(const TlsConfig& config);
  // Binds host:port and starts the endpoint's thread; returns the bound port.
  StatusOr<uint16_t> Start(const std::string& host, uint16_t port);
  // Re-reads the TLS files for new connections (any thread).
  Status ReloadTls();
  // Stops the listener and joins the thread. Idempotent.
  void Stop();

 private:
  HttpCancel Handle(HttpRequest&& request, HttpRespond respond);

  Metrics& metrics_;
  boost::asio::io_context& state_io_;
  std::function<std::vector<PoolSnapshot>()> snapshot_;
  const std::chrono::milliseconds snapshot_timeout_;
  boost::asio::io_context io_{1};
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
};

}  // namespace modelgate
