#include "modelgate/logging.h"

#include <nlohmann/json.hpp>

#include "spdlog/async.h"
#include "spdlog/pattern_formatter.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace modelgate {

namespace {

constexpr size_t kLogQueueSize = 16384;  // lines waiting for the logging thread

// Adds each leading-space-separated key=value token of the first line as a
// field, so "access protocol=http status=200" becomes queryable JSON.
void AddFields(std::string_view msg, nlohmann::json& out) {
  msg = msg.substr(0, msg.find('\n'));
  size_t at = 0;
  while (at < msg.size()) {
    size_t end = msg.find(' ', at);
    if (end == std::string_view::npos) end = msg.size();
    std::string_view token = msg.substr(at, end - at);
    const size_t eq = token.find('=');
    if (eq != std::string_view::npos && eq > 0 && token.find(':') == std::string_view::npos) {
      std::string key(token.substr(0, eq));
      if (key == "ts" || key == "level" || key == "msg") {
        at = end + 1;
        continue;
      }
      const std::string value(token.substr(eq + 1));
      // Integers become JSON numbers so log pipelines can compare them.
      char* num_end = nullptr;
      const long long n = std::strtoll(value.c_str(), &num_end, 10);
      if (!value.empty() && *num_end == '\0' && value.size() < 16) {
        out[key] = n;
      } else {
        out[key] = value;
      }
    }
    at = end + 1;
  }
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto ts =
        std::chrono::duration_cast<std::chrono::microseconds>(msg.time.time_since_epoch()).count();
    char stamp[64];
    const std::time_t secs = ts / 1000000;
    std::tm tm;
    gmtime_r(&secs, &tm);
    const size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(stamp + n, sizeof stamp - n, ".%06lldZ", static_cast<long long>(ts % 1000000));
    std::string_view text(msg.payload.data(), msg.payload.size());
    nlohmann::json j = {{"ts", stamp},
                        {"level", std::string(spdlog::level::to_string_view(msg.level).data(),
                                              spdlog::level::to_string_view(msg.level).size())},
                        {"msg", std::string(text)}};
    AddFields(text, j);
    const std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

Status SetupLogging(const std::string& format, const std::string& level) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    return InvalidArgument("--log-level '" + level +
                           "' is not one of trace, debug, info, warn, error, critical, off");
  }
  // Asynchronous: the I/O thread only enqueues; one logging thread formats
  // and writes. A full queue blocks rather than dropping lines (access logs
  // are an audit trail).
  spdlog::init_thread_pool(kLogQueueSize, 1);
  auto logger = std::make_shared<spdlog::async_logger>(
      "modelgate", std::make_shared<spdlog::sinks::stderr_sink_mt>(), spdlog::thread_pool(),
      spdlog::async_overflow_policy::block);
  if (format == "json") {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else if (format == "text") {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  } else {
    return InvalidArgument("--log-format '" + format + "' is not text or json");
  }
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  return Status::Ok();
}

}  // namespace modelgate
