// The modelgate daemon: parses its options, sets up logging and runs the
// Server (server/server.h), which serves until SIGTERM or SIGINT.
// `modelgate check REPO ...` (a first argument "check") validates a model
// repository instead and serves nothing (check/check_command.h).
#include <iostream>
#include <string_view>

#include "check/check_command.h"
#include "observability/logging.h"
#include "server/daemon_options.h"
#include "server/server.h"
#include "server/server_setup.h"
#include "spdlog/spdlog.h"

int main(int argc, char** argv) {
  using namespace modelgate;
  if (argc >= 2 && std::string_view(argv[1]) == "check") return RunCheck(argc - 1, argv + 1);
  const ScopedIgnoreSighup ignore_sighup;  // until the Server handles it, and at exit
  int exit_code = 0;
  auto options = ParseDaemonOptions(argc, argv, &exit_code);
  if (!options) return exit_code;
  if (Status s = SetupLogging(options->log_format, options->log_level); !s.ok()) {
    std::cerr << "modelgate: " << s.message() << "\n";
    return Server::kExitBadSetup;
  }
  // Every exit path flushes the asynchronous log queue, after the Server is gone.
  struct FlushLogsAtExit {
    ~FlushLogsAtExit() { spdlog::shutdown(); }
  } flush_logs_at_exit;
  Server server(std::move(options).value());
  return server.Run();
}
