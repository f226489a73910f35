#include "observability/logging.h"

#include "observability/log_format.h"
#include "spdlog/async.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace modelgate {

namespace {

constexpr size_t kLogQueueSize = 16384;  // lines waiting for the logging thread

}  // namespace

Status SetupLogging(const std::string& format, const std::string& level) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    return InvalidArgument("--log-level '" + level +
                           "' is not one of trace, debug, info, warn, error, critical, off");
  }
  LogFormat log_format;
  if (format == "json") {
    log_format = LogFormat::kJson;
  } else if (format == "text") {
    log_format = LogFormat::kText;
  } else {
    return InvalidArgument("--log-format '" + format + "' is not text or json");
  }
  // Asynchronous: the I/O thread only enqueues; one logging thread formats
  // and writes. A full queue blocks rather than dropping lines (access logs
  // are an audit trail).
  spdlog::init_thread_pool(kLogQueueSize, 1);
  auto logger = std::make_shared<spdlog::async_logger>(
      "modelgate", std::make_shared<spdlog::sinks::stderr_sink_mt>(), spdlog::thread_pool(),
      spdlog::async_overflow_policy::block);
  logger->set_formatter(MakeLogFormatter(log_format));
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  return Status::Ok();
}

}  // namespace modelgate
