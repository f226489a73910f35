#include "check/check_command.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/program_options.hpp>
#include <iostream>
#include <optional>
#include <thread>

#include "backend/process/child_reaper.h"
#include "check/repository_checker.h"
#include "modelgate/log_event.h"
#include "observability/logging.h"
#include "server/daemon_options.h"
#include "server/server_setup.h"
#include "spdlog/spdlog.h"

namespace modelgate {

namespace po = boost::program_options;

namespace {

// Killing and reaping whatever model code left behind, at the end.
constexpr std::chrono::seconds kLeftoverKillBudget{2};

struct CheckOptions {
  std::string repository;
  std::optional<std::string> model;
  std::string format = "table";
  DaemonOptions daemon;  // worker host, worker user, logging
};

std::optional<CheckOptions> ParseCheckOptions(int argc, char** argv, int* exit_code) {
  CheckOptions o;
  o.daemon.log_level = "warn";
  DaemonOptions& d = o.daemon;
  std::string model;
  po::options_description desc(
      "modelgate check: validates every model config of a repository, starts one worker per "
      "model version, runs its warm-up and its \"examples\", and prints one row per version. "
      "Exit 0 only when all load and pass. Nothing listens.\n\n"
      "Usage: modelgate check REPO [--model NAME] [--format table|json] [options]\n"
      "Options also read MODELGATE_<OPTION> (e.g. MODELGATE_WORKER_HOST)\n\nOptions");
  desc.add_options()("help,h", "print this help and exit")("model", po::value(&model),
                                                           "check only this model")(
      "format", po::value(&o.format)->default_value(o.format),
      "table (aligned columns) or json (an array of rows)")(
      "worker-host", po::value(&d.worker_host),
      "the worker host executable, which embeds R and Python (default: modelgate-worker "
      "beside this binary); a model's config \"interpreter\" overrides it")(
      "worker-user", po::value(&d.worker_user),
      "when run as root, the unprivileged user the workers run as (as the daemon)")(
      "log-format", po::value(&d.log_format)->default_value(d.log_format), "text or json")(
      "log-level", po::value(&d.log_level)->default_value(d.log_level),
      "trace, debug, info (shows the models' own output), warn, error");
  po::options_description hidden;
  hidden.add_options()("repository", po::value(&o.repository));
  po::options_description all;
  all.add(desc).add(hidden);
  po::positional_options_description positional;
  positional.add("repository", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    po::store(po::parse_environment(desc,
                                    [&desc](const std::string& env) -> std::string {
                                      const std::string prefix = "MODELGATE_";
                                      if (env.rfind(prefix, 0) != 0) return "";
                                      std::string name = env.substr(prefix.size());
                                      for (char& c : name) c = c == '_' ? '-' : std::tolower(c);
                                      if (name == "model" || name == "help" || name == "format")
                                        return "";
                                      return desc.find_nothrow(name, false) ? name : "";
                                    }),
              vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "modelgate check: " << e.what() << "\n(see modelgate check --help)\n";
    *exit_code = kCheckUsage;
    return std::nullopt;
  }
  if (vm.count("help")) {
    std::cout << desc << "\n";
    *exit_code = kCheckOk;
    return std::nullopt;
  }
  if (o.repository.empty()) {
    std::cerr << "modelgate check: the model repository is required: modelgate check REPO\n";
    *exit_code = kCheckUsage;
    return std::nullopt;
  }
  if (o.format != "table" && o.format != "json") {
    std::cerr << "modelgate check: --format '" << o.format << "' is not table or json\n";
    *exit_code = kCheckUsage;
    return std::nullopt;
  }
  if (vm.count("model")) {
    if (Status s = CheckModelName(model); !s.ok()) {
      std::cerr << "modelgate check: --model: " << s.message() << "\n";
      *exit_code = kCheckUsage;
      return std::nullopt;
    }
    o.model = model;
  }
  return o;
}

}  // namespace

int RunCheck(int argc, char** argv) {
  int exit_code = kCheckOk;
  auto options = ParseCheckOptions(argc, argv, &exit_code);
  if (!options) return exit_code;
  if (Status s = SetupLogging(options->daemon.log_format, options->daemon.log_level); !s.ok()) {
    std::cerr << "modelgate check: " << s.message() << "\n";
    return kCheckUsage;
  }
  struct FlushLogsAtExit {
    ~FlushLogsAtExit() { spdlog::shutdown(); }
  } flush_logs_at_exit;
  // As the daemon: SIGPIPE ignored, descriptor limit, subreaper, worker user.
  PrepareProcess();
  std::unique_ptr<WorkerHome> home;
  auto identity = SetUpWorkers(options->daemon, &home);
  if (!identity.ok()) {
    std::cerr << "modelgate check: " << identity.status().message() << "\n";
    return kCheckUsage;
  }

  boost::asio::io_context io{1};
  auto work = boost::asio::make_work_guard(io);
  std::optional<StatusOr<std::vector<CheckRow>>> rows;
  {
    RepositoryChecker checker(io, RuntimeFor(options->daemon, *identity));
    std::thread io_thread([&io] { io.run(); });
    rows = checker.CheckRepository(options->repository, options->model);
    work.reset();
    io.stop();
    io_thread.join();
  }
  KillRemainingDescendants(kLeftoverKillBudget);
  if (!rows->ok()) {
    std::cerr << "modelgate check: " << rows->status().message() << "\n";
    return kCheckUsage;
  }
  if (rows->value().empty()) {
    std::cerr << "modelgate check: no model in " << options->repository << "\n";
    return kCheckFailed;
  }
  std::cout << (options->format == "json" ? FormatCheckJson(rows->value())
                                          : FormatCheckTable(rows->value()))
            << std::flush;
  for (const CheckRow& row : rows->value()) {
    if (!row.ok()) return kCheckFailed;
  }
  return kCheckOk;
}

}  // namespace modelgate
