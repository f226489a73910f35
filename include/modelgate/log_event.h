// Structured log records: an event name fixed at compile time plus named,
// typed fields. Every daemon log line that carries data goes through here.
//
//   LogInfo("access", {{"protocol", "http"}, {"status", 200}, {"request_id", id}});
//
// Trust contract: event names and keys are string literals checked at compile
// time (consteval), so no client or model text can ever become a key, an
// event name or a field boundary. Values are data: the formatter
// (--log-format, see logging.h) writes them as JSON values (numbers stay
// numbers) or as escaped, quoted-when-needed `key=value` text, so one record
// is always exactly one line. String values longer than kMaxLogValueBytes are
// cut (at a UTF-8 boundary) and end with "…".
//
// Cost: the calling thread only checks the level and copies the fields into
// one flat buffer (no formatting, no allocation for records under ~250 bytes);
// escaping and rendering happen on the logging thread. Thread-safe.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace modelgate {

// A string value is cut at this many bytes (a 1 MiB model message must not
// become a 1 MiB log line). Worker output lines are cut earlier, at
// WorkerOutput::kMaxLogLineBytes.
inline constexpr size_t kMaxLogValueBytes = 16 * 1024;
// Fields of one record past this many are dropped (call sites use a dozen).
inline constexpr size_t kMaxLogFields = 32;

enum class LogLevel : uint8_t { kTrace, kDebug, kInfo, kWarn, kError, kCritical };

namespace log_detail {
// Reached only during constant evaluation of a bad name: a compile error.
inline void NameRejectedAtCompileTime(const char*) {}
}  // namespace log_detail

// A record's event name: a literal of printable ASCII without '=', '"' or '\'.
class LogEvent {
 public:
  static constexpr size_t kMaxBytes = 100;
  consteval LogEvent(const char* text) : text_(text) {
    if (text_.empty() || text_.size() > kMaxBytes) log_detail::NameRejectedAtCompileTime(text);
    for (char c : text_) {
      if (c < 0x20 || c > 0x7e || c == '=' || c == '"' || c == '\\') {
        log_detail::NameRejectedAtCompileTime(text);
      }
    }
  }
  constexpr std::string_view text() const { return text_; }

 private:
  std::string_view text_;
};

// A field key: a literal of [a-z0-9_], not one of the record's own keys
// (ts, level, msg).
class LogKey {
 public:
  static constexpr size_t kMaxBytes = 64;
  consteval LogKey(const char* text) : text_(text) {
    if (text_.empty() || text_.size() > kMaxBytes || text_ == "ts" || text_ == "level" ||
        text_ == "msg") {
      log_detail::NameRejectedAtCompileTime(text);
    }
    for (char c : text_) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
        log_detail::NameRejectedAtCompileTime(text);
      }
    }
  }
  constexpr std::string_view text() const { return text_; }

 private:
  std::string_view text_;
};

// A field value. Holds a view: valid only for the duration of the Log call.
class LogValue {
 public:
  enum class Type : uint8_t { kString, kInt, kUint, kDouble, kBool, kNull };

  LogValue(std::string_view s) : type_(Type::kString), s_(s) {}
  LogValue(const std::string& s) : type_(Type::kString), s_(s) {}
  LogValue(const char* s) : type_(s ? Type::kString : Type::kNull), s_(s ? s : "") {}
  LogValue(std::nullptr_t) : type_(Type::kNull), u_(0) {}
  LogValue(bool b) : type_(Type::kBool), b_(b) {}
  LogValue(double d) : type_(Type::kDouble), d_(d) {}
  template <std::signed_integral T>
  LogValue(T i) : type_(Type::kInt), i_(static_cast<int64_t>(i)) {}
  template <std::unsigned_integral T>
  requires(!std::same_as<T, bool>) LogValue(T u)
      : type_(Type::kUint), u_(static_cast<uint64_t>(u)) {}

  Type type() const { return type_; }
  std::string_view str() const { return s_; }
  int64_t i() const { return i_; }
  uint64_t u() const { return u_; }
  double d() const { return d_; }
  bool b() const { return b_; }

 private:
  Type type_;
  union {
    std::string_view s_;
    int64_t i_;
    uint64_t u_;
    double d_;
    bool b_;
  };
};

struct LogField {
  LogField(LogKey k, LogValue v) : key(k), value(v) {}
  LogKey key;
  LogValue value;
};

using LogFields = std::initializer_list<LogField>;

// Writes one record through the process logger (SetupLogging). A record
// below the configured level costs one comparison.
void Log(LogLevel level, LogEvent event, LogFields fields = {});

inline void LogDebug(LogEvent event, LogFields fields = {}) {
  Log(LogLevel::kDebug, event, fields);
}
inline void LogInfo(LogEvent event, LogFields fields = {}) { Log(LogLevel::kInfo, event, fields); }
inline void LogWarn(LogEvent event, LogFields fields = {}) { Log(LogLevel::kWarn, event, fields); }
inline void LogError(LogEvent event, LogFields fields = {}) {
  Log(LogLevel::kError, event, fields);
}
inline void LogCritical(LogEvent event, LogFields fields = {}) {
  Log(LogLevel::kCritical, event, fields);
}

}  // namespace modelgate
