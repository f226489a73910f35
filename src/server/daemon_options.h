// Command-line flags of the daemon; each also reads MODELGATE_<FLAG> from the
// environment (e.g. MODELGATE_HTTP_PORT), flags winning.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/limits.h"
#include "modelgate/status.h"

namespace modelgate {

// Upper bound of --repository-poll-secs (a day).
inline constexpr int kMaxRepositoryPollSecs = 86400;

struct DaemonOptions {
  std::string model_repository;
  // Loopback unless told otherwise: the container image and the chart pass
  // --host 0.0.0.0 themselves.
  std::string host = "127.0.0.1";
  int http_port = 8000;
  int grpc_port = 8001;
  int metrics_port = 8002;
  std::string log_format = "text";
  std::string log_level = "info";
  bool access_log = true;
  bool metrics = true;
  std::string worker_host;  // empty: DefaultWorkerHost() (server/worker_host_path.h)
  size_t max_request_bytes = kDefaultMaxRequestBytes;
  int shutdown_grace_seconds = 30;
  int64_t max_inflight = kDefaultMaxInflight;
  int max_connections = kDefaultMaxConnections;
  // Security (README "Security"). TLS for every listener when cert and key
  // are set; mutual TLS with a client CA.
  std::string tls_cert, tls_key, tls_client_ca;
  std::string auth_tokens;                      // token file; empty: no authentication
  std::vector<std::string> cors_allow_origins;  // validated, commas split; "*" allowed
  // When the daemon is root: the unprivileged user its workers run as; empty:
  // "modelgate" if that user exists, else "nobody".
  std::string worker_user;
  // Model lifecycle (README "Deploying a new model version"): none | explicit | poll.
  std::string model_control_mode = "none";
  int repository_poll_secs = 5;
};

// nullopt with *exit_code set when the process should exit (--help,
// --version, error).
// Runs ValidateDaemonOptions and prints its error.
std::optional<DaemonOptions> ParseDaemonOptions(int argc, char** argv, int* exit_code);

// Checks what can be checked before anything listens: ports, TLS files
// (readable, PEM, key matching the certificate), the token file (every line),
// CORS origins. The error names the flag, the file and, for tokens, the line.
Status ValidateDaemonOptions(const DaemonOptions& options);

}  // namespace modelgate
