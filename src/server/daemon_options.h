// Command-line flags of the daemon; each also reads MODELGATE_<FLAG> from the
// environment (e.g. MODELGATE_HTTP_PORT), flags winning.
#pragma once

#include <optional>
#include <string>

#include "modelgate/status.h"

namespace modelgate {

struct DaemonOptions {
  std::string model_repository;
  std::string host = "0.0.0.0";
  int http_port = 8000;
  int grpc_port = 8001;
  int metrics_port = 8002;
  std::string log_format = "text";
  std::string log_level = "info";
  bool access_log = true;
  bool metrics = true;
  std::string python;  // empty: /usr/bin/python3 if present, else python3
  std::string rscript = "Rscript";
  std::string bridge_dir;  // empty: the build's bridge directory
  size_t max_request_bytes = 64u * 1024u * 1024u;
  int shutdown_grace_seconds = 30;
  int64_t max_inflight = 4096;
  int max_connections = 1024;
  // When the daemon is root: the unprivileged user its workers run as; empty:
  // "modelgate" if that user exists, else "nobody".
  std::string worker_user;
};

// nullopt with *exit_code set when the process should exit (--help, error).
std::optional<DaemonOptions> ParseDaemonOptions(int argc, char** argv, int* exit_code);

}  // namespace modelgate
