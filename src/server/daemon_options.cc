#include "server/daemon_options.h"

#include <boost/program_options.hpp>
#include <iostream>

#include "frontend/http/cors.h"
#include "modelgate/version.h"
#include "security/tls_files.h"
#include "security/token_authenticator.h"

namespace modelgate {

namespace po = boost::program_options;

std::optional<DaemonOptions> ParseDaemonOptions(int argc, char** argv, int* exit_code) {
  DaemonOptions o;
  po::options_description desc(
      "modelgate: serves R and Python models over KServe V2 (REST and gRPC)\n\n"
      "Usage: modelgate --model-repository DIR [options]\n"
      "Every option can also be set as MODELGATE_<OPTION> (e.g. MODELGATE_HTTP_PORT=8000)"
      "\n\nOptions");
  desc.add_options()("help,h", "print this help and exit")("version", "print the version and exit")(
      "model-repository", po::value(&o.model_repository),
      "directory of models: <name>/config.json and <name>/<version>/model.(R|py)")(
      "host", po::value(&o.host)->default_value(o.host), "address to listen on")(
      "http-port", po::value(&o.http_port)->default_value(o.http_port), "REST port")(
      "grpc-port", po::value(&o.grpc_port)->default_value(o.grpc_port), "gRPC port")(
      "metrics-port", po::value(&o.metrics_port)->default_value(o.metrics_port),
      "Prometheus /metrics port")(
      "log-format", po::value(&o.log_format)->default_value(o.log_format), "text or json")(
      "log-level", po::value(&o.log_level)->default_value(o.log_level),
      "trace, debug, info, warn, error")("access-log",
                                         po::value(&o.access_log)->default_value(o.access_log),
                                         "one log line per request (true/false)")(
      "metrics", po::value(&o.metrics)->default_value(o.metrics),
      "export Prometheus metrics on --metrics-port (true/false)")(
      "worker-host", po::value(&o.worker_host),
      "the worker host executable, which embeds R and Python (default: modelgate-worker "
      "beside this binary); a model's config \"interpreter\" overrides it")(
      "max-request-bytes", po::value(&o.max_request_bytes)->default_value(o.max_request_bytes),
      "largest REST body or gRPC message accepted")(
      "shutdown-grace-seconds",
      po::value(&o.shutdown_grace_seconds)->default_value(o.shutdown_grace_seconds),
      "on SIGTERM, how long queued and running requests may take before the rest get 503")(
      "max-inflight", po::value(&o.max_inflight)->default_value(o.max_inflight),
      "requests in flight across all models; beyond it: 429")(
      "max-connections", po::value(&o.max_connections)->default_value(o.max_connections),
      "open REST connections; when all are taken the connection idle longest is closed for a "
      "new one, and if none is idle the new one gets 503")(
      "model-control-mode", po::value(&o.model_control_mode)->default_value(o.model_control_mode),
      "none: the repository is read once at start, load/unload are refused; explicit: "
      "load/unload (REST, gRPC) and SIGHUP apply changes; poll: explicit, and the repository "
      "is rescanned every --repository-poll-secs")(
      "repository-poll-secs",
      po::value(&o.repository_poll_secs)->default_value(o.repository_poll_secs),
      "seconds between repository rescans in --model-control-mode poll");
  std::vector<std::string> cors;
  po::options_description security("Security (README \"Security\")");
  security.add_options()("tls-cert", po::value(&o.tls_cert),
                         "PEM certificate chain: TLS on every listener (needs --tls-key); rotated "
                         "files are used after SIGHUP")("tls-key", po::value(&o.tls_key),
                                                        "PEM private key of --tls-cert")(
      "tls-client-ca", po::value(&o.tls_client_ca),
      "PEM CA bundle: mutual TLS, clients must present a certificate it signed")(
      "auth-tokens", po::value(&o.auth_tokens),
      "bearer token file, lines '<token or sha256:HEX> <infer|admin>'; re-read on SIGHUP "
      "and when it changes")(
      "cors-allow-origin", po::value(&cors),
      "browser origin allowed to call the REST API (repeatable or comma-separated; '*' for any)");
  desc.add_options()("worker-user", po::value(&o.worker_user),
                     "when the daemon runs as root, the unprivileged user its workers run as "
                     "(default: modelgate if that user exists, else nobody); ignored otherwise");
  desc.add(security);
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::store(po::parse_environment(desc,
                                    [&desc](const std::string& env) -> std::string {
                                      const std::string prefix = "MODELGATE_";
                                      if (env.rfind(prefix, 0) != 0) return "";
                                      std::string name = env.substr(prefix.size());
                                      for (char& c : name) c = c == '_' ? '-' : std::tolower(c);
                                      // MODELGATE_VERSION is not --version.
                                      if (name == "version") return "";
                                      return desc.find_nothrow(name, false) ? name : "";
                                    }),
              vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "modelgate: " << e.what() << "\n(see --help)\n";
    *exit_code = 2;
    return std::nullopt;
  }
  if (vm.count("version")) {
    std::cout << "modelgate " << kVersion << "\n";
    *exit_code = 0;
    return std::nullopt;
  }
  if (vm.count("help")) {
    std::cout << desc << "\n";
    *exit_code = 0;
    return std::nullopt;
  }
  if (o.model_repository.empty()) {
    std::cerr << "modelgate: --model-repository is required (see --help)\n";
    *exit_code = 2;
    return std::nullopt;
  }
  for (const std::string& entry : cors) {
    size_t start = 0;
    while (start <= entry.size()) {
      size_t end = std::min(entry.find(',', start), entry.size());
      std::string origin = entry.substr(start, end - start);
      origin.erase(0, origin.find_first_not_of(" \t"));
      origin.erase(origin.find_last_not_of(" \t") + 1);
      if (!origin.empty()) o.cors_allow_origins.push_back(std::move(origin));
      start = end + 1;
    }
  }
  if (Status s = ValidateDaemonOptions(o); !s.ok()) {
    std::cerr << "modelgate: " << s.message() << "\n";
    *exit_code = 2;
    return std::nullopt;
  }
  return o;
}

Status ValidateDaemonOptions(const DaemonOptions& o) {
  for (auto [name, port] : {std::pair{"--http-port", o.http_port},
                            {"--grpc-port", o.grpc_port},
                            {"--metrics-port", o.metrics_port}}) {
    if (port < 0 || port > 65535) {
      return InvalidArgument(std::string(name) + " " + std::to_string(port) +
                             " is not a port number");
    }
  }
  if (o.model_control_mode != "none" && o.model_control_mode != "explicit" &&
      o.model_control_mode != "poll") {
    return InvalidArgument("--model-control-mode '" + o.model_control_mode +
                           "' is not one of none, explicit, poll");
  }
  if (o.repository_poll_secs < 1 || o.repository_poll_secs > kMaxRepositoryPollSecs) {
    return InvalidArgument("--repository-poll-secs " + std::to_string(o.repository_poll_secs) +
                           " is not between 1 and " + std::to_string(kMaxRepositoryPollSecs));
  }
  if (Status s = CheckTlsFiles(o.tls_cert, o.tls_key, o.tls_client_ca); !s.ok()) return s;
  if (!o.auth_tokens.empty()) {
    auto tokens = TokenAuthenticator::LoadFile(o.auth_tokens);
    if (!tokens.ok()) return InvalidArgument("--auth-tokens " + tokens.status().message());
  }
  for (const std::string& origin : o.cors_allow_origins) {
    if (Status s = ValidateCorsOrigin(origin); !s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace modelgate
