#include "modelgate/log_event.h"

#include "observability/log_format.h"
#include "observability/log_record.h"
#include "spdlog/spdlog.h"

namespace modelgate {

namespace {

static_assert(LogEvent::kMaxBytes <= 255 && LogKey::kMaxBytes <= 255, "lengths are one byte");
static_assert(kMaxLogValueBytes <= UINT32_MAX, "value lengths are four bytes");

spdlog::level::level_enum ToSpdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return spdlog::level::trace;
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
    case LogLevel::kCritical:
      return spdlog::level::critical;
  }
  return spdlog::level::critical;
}

// Until SetupLogging installs the daemon's logger (and in tools and tests
// that never call it) spdlog's default logger renders records as text lines
// too, not as raw record bytes. Runs before main(), when no thread logs yet;
// spdlog's registry is a function-local static, so the order is safe.
[[maybe_unused]] const bool kDefaultLoggerRendersRecords = [] {
  spdlog::default_logger_raw()->set_formatter(MakeLogFormatter(LogFormat::kText));
  return true;
}();

}  // namespace

void Log(LogLevel level, LogEvent event, LogFields fields) {
  spdlog::logger* logger = spdlog::default_logger_raw();  // null after spdlog::shutdown()
  const spdlog::level::level_enum lvl = ToSpdlog(level);
  if (logger == nullptr || !logger->should_log(lvl)) return;
  spdlog::memory_buf_t record;  // inline storage: no allocation for a typical record
  EncodeLogRecord(event, fields, record);
  logger->log(spdlog::source_loc{kStructuredRecordTag, 1, kStructuredRecordTag}, lvl,
              spdlog::string_view_t(record.data(), record.size()));
}

}  // namespace modelgate
