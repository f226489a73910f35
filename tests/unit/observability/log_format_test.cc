// The log formatter and escaper: whatever a value holds, a record is exactly
// one line, its fields are the ones the call site named, and each value
// reads back unchanged (JSON) or unescapes back to the original (text).
#include "observability/log_format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>

#include "modelgate/log_event.h"
#include "observability/log_record.h"
#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/spdlog.h"

namespace modelgate {
namespace {

// Installs a synchronous logger writing `format` into a string for one test.
class CapturedLog {
 public:
  explicit CapturedLog(LogFormat format) : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out_);
    sink->set_formatter(MakeLogFormatter(format));
    auto logger = std::make_shared<spdlog::logger>("test", sink);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }

  std::string text() const { return out_.str(); }
  // The one line written; fails the test unless exactly one was.
  std::string OneLine() const {
    const std::string s = out_.str();
    EXPECT_FALSE(s.empty());
    EXPECT_EQ(s.back(), '\n');
    EXPECT_EQ(s.find('\n'), s.size() - 1) << s;
    return s.substr(0, s.size() - 1);
  }
  nlohmann::json OneJson() const { return nlohmann::json::parse(OneLine()); }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

// A strict reader of the text format's fields: `key=bare` or `key="escaped"`,
// separated by single spaces, after "<ts> <level> <event>". Returns the
// unescaped values; fails the test on anything it cannot read.
std::map<std::string, std::string> TextFields(const std::string& line, const std::string& event) {
  std::map<std::string, std::string> fields;
  const std::regex head(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z [a-z]+ )");
  std::smatch m;
  EXPECT_TRUE(std::regex_search(line, m, head)) << line;
  size_t at = m.length(0);
  EXPECT_EQ(line.compare(at, event.size(), event), 0) << line;
  at += event.size();
  while (at < line.size()) {
    EXPECT_EQ(line[at], ' ') << line;
    const size_t eq = line.find('=', at);
    if (eq == std::string::npos) {
      ADD_FAILURE() << "no '=' after " << at << " in " << line;
      break;
    }
    const std::string key = line.substr(at + 1, eq - at - 1);
    EXPECT_EQ(fields.count(key), 0u) << "repeated key " << key;
    std::string value;
    at = eq + 1;
    if (at < line.size() && line[at] == '"') {
      for (++at; at < line.size() && line[at] != '"'; ++at) {
        if (line[at] != '\\') {
          value += line[at];
          continue;
        }
        const char e = line[++at];
        if (e == 'n')
          value += '\n';
        else if (e == 't')
          value += '\t';
        else if (e == 'r')
          value += '\r';
        else if (e == '"' || e == '\\')
          value += e;
        else if (e == 'x') {
          value += static_cast<char>(std::stoi(line.substr(at + 1, 2), nullptr, 16));
          at += 2;
        } else if (e == 'u') {  // only used for code points below U+0800 and U+2000..U+206F
          const int cp = std::stoi(line.substr(at + 1, 4), nullptr, 16);
          if (cp < 0x800) {
            value += static_cast<char>(0xC0 | (cp >> 6));
            value += static_cast<char>(0x80 | (cp & 0x3F));
          } else {
            value += static_cast<char>(0xE0 | (cp >> 12));
            value += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            value += static_cast<char>(0x80 | (cp & 0x3F));
          }
          at += 4;
        } else {
          ADD_FAILURE() << "unknown escape \\" << e << " in " << line;
        }
      }
      EXPECT_LT(at, line.size()) << "unterminated quote in " << line;
      ++at;
    } else {
      const size_t end = line.find(' ', at);
      value = line.substr(at, end == std::string::npos ? std::string::npos : end - at);
      EXPECT_EQ(value.find_first_of("\"=\\"), std::string::npos) << line;
      at = end == std::string::npos ? line.size() : end;
    }
    fields[key] = value;
  }
  return fields;
}

// Values an attacker would send as a request id, a model message or a
// worker output line, and whether each is valid UTF-8.
const std::vector<std::pair<std::string, bool>>& HostileValues() {
  static const std::vector<std::pair<std::string, bool>> values = {
      {"a\nb", true},
      {"line1\r\nline2", true},
      {"a\tb", true},
      {"say \"hi\"", true},
      {R"(back\slash\n)", true},
      {"k=v", true},
      {"x status=200", true},
      {"abc status=200 target=/v2/health/live", true},
      {"x\n2026-01-01T00:00:00.000000Z info access protocol=http status=200", true},
      {R"(x", "status": 200, "y": ")", true},
      {R"({"ts":"0","level":"info","msg":"access","status":200})", true},
      {std::string("nul\0byte", 8), true},
      {"\x1b[31mred\x1b[0m", true},
      {"del\x7f", true},
      {"", true},
      {" ", true},
      {"caf\xc3\xa9", true},
      {"next\xc2\x85line", true},          // U+0085 (C1 NEL)
      {"sep\xe2\x80\xa8line", true},       // U+2028
      {"bidi\xe2\x80\xaeoverride", true},  // U+202E
      {"bad\xff\xfe utf8", false},
      {"\xc3", false},          // truncated sequence
      {"\xed\xa0\x80", false},  // encoded surrogate
      {"\xc0\xaf", false},      // overlong '/'
  };
  return values;
}

TEST(LogFormatJsonTest, StructuredRecordHasExactlyTheNamedFields) {
  CapturedLog log(LogFormat::kJson);
  LogInfo("access", {{"protocol", "http"},
                     {"status", 200},
                     {"duration_us", int64_t{-5}},
                     {"bytes", size_t{18446744073709551615u}},
                     {"ratio", 0.25},
                     {"ok", true},
                     {"pid", nullptr},
                     {"request_id", std::string("abc status=200 target=/v2/health/live")}});
  const auto j = log.OneJson();
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j.size(), 11u) << j;
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["msg"], "access");
  EXPECT_EQ(j["protocol"], "http");
  EXPECT_TRUE(j["status"].is_number_integer());
  EXPECT_EQ(j["status"], 200);
  EXPECT_EQ(j["duration_us"], -5);
  EXPECT_EQ(j["bytes"].get<uint64_t>(), 18446744073709551615u);
  EXPECT_TRUE(j["ratio"].is_number_float());
  EXPECT_EQ(j["ratio"], 0.25);
  EXPECT_EQ(j["ok"], true);
  EXPECT_TRUE(j["pid"].is_null());
  EXPECT_EQ(j["request_id"], "abc status=200 target=/v2/health/live");
  EXPECT_FALSE(j.contains("target"));
  EXPECT_TRUE(std::regex_match(j["ts"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)")))
      << j["ts"];
}

TEST(LogFormatJsonTest, EveryHostileValueIsOneLineOfValidJsonThatReadsBack) {
  for (const auto& [v, valid_utf8] : HostileValues()) {
    CapturedLog log(LogFormat::kJson);
    LogWarn("model error", {{"request_id", v}, {"status", 500}});
    const auto j = log.OneJson();
    EXPECT_EQ(j.size(), 5u) << j;
    EXPECT_EQ(j["status"], 500) << j;
    EXPECT_EQ(j["msg"], "model error");
    if (valid_utf8) {
      EXPECT_EQ(j["request_id"], v);
    } else {
      EXPECT_NE(j["request_id"].get<std::string>().find("\xef\xbf\xbd"), std::string::npos);
    }
    for (unsigned char c : log.OneLine()) EXPECT_TRUE(c >= 0x20 && c != 0x7f) << int(c);
  }
}

TEST(LogFormatJsonTest, InvalidUtf8BecomesReplacementCharacters) {
  CapturedLog log(LogFormat::kJson);
  LogInfo("worker output", {{"line", std::string_view("ok\xff\xfe", 4)}});
  EXPECT_EQ(log.OneJson()["line"], "ok\xef\xbf\xbd\xef\xbf\xbd");  // two U+FFFD
  EXPECT_NE(log.OneLine().find(R"("ok\ufffd\ufffd")"), std::string::npos) << log.OneLine();
}

TEST(LogFormatJsonTest, HiddenControlsAreEscapedButReadBack) {
  CapturedLog log(LogFormat::kJson);
  LogInfo("worker output", {{"line",
                             "a\xe2\x80\xa8"
                             "b\xc2\x85"
                             "c\xe2\x80\xae"}});
  const std::string line = log.OneLine();
  EXPECT_NE(line.find(R"(a\u2028b\u0085c\u202e)"), std::string::npos) << line;
  EXPECT_EQ(log.OneJson()["line"],
            "a\xe2\x80\xa8"
            "b\xc2\x85"
            "c\xe2\x80\xae");
}

TEST(LogFormatJsonTest, MultiLineTracebackIsOneStringField) {
  CapturedLog log(LogFormat::kJson);
  const std::string tb =
      "Traceback (most recent call last):\n  File \"m.py\", line 3\nValueError: x";
  LogWarn("model error", {{"error", "x"}, {"traceback", tb}});
  EXPECT_EQ(log.OneJson()["traceback"], tb);
}

TEST(LogFormatJsonTest, OneMebibyteValueIsCutAtTheNamedLimit) {
  CapturedLog log(LogFormat::kJson);
  const std::string big(1 << 20, 'a');
  LogInfo("worker output", {{"line", big}, {"pid", 7}});
  const std::string line = log.OneLine();
  EXPECT_LT(line.size(), kMaxLogValueBytes + 200);
  const auto j = log.OneJson();
  EXPECT_EQ(j["line"], std::string(kMaxLogValueBytes, 'a') + "\xe2\x80\xa6");
  EXPECT_EQ(j["pid"], 7);  // fields after a cut value survive
}

TEST(LogFormatJsonTest, CutNeverSplitsAUtf8Sequence) {
  CapturedLog log(LogFormat::kJson);
  // 'x' then 2-byte 'é's: the limit falls in the middle of one of them.
  std::string v = "x";
  while (v.size() < kMaxLogValueBytes + 10) v += "\xc3\xa9";
  LogInfo("e", {{"v", v}});
  const std::string got = log.OneJson()["v"];
  EXPECT_EQ(got.size(), kMaxLogValueBytes - 1 + 3);
  EXPECT_EQ(got.find("\xef\xbf\xbd"), std::string::npos);  // no replacement char
}

TEST(LogFormatJsonTest, RepeatedKeyKeepsTheFirstValue) {
  CapturedLog log(LogFormat::kJson);
  LogInfo("e", {{"status", 200}, {"status", 500}});
  const std::string line = log.OneLine();
  EXPECT_EQ(line.find("500"), std::string::npos) << line;
  EXPECT_EQ(log.OneJson()["status"], 200);
}

TEST(LogFormatJsonTest, PlainSpdlogTextIsOnlyTheMessageNeverParsed) {
  CapturedLog log(LogFormat::kJson);
  spdlog::warn("accept failed: {}", "x status=200 level=debug\n{\"msg\":\"forged\"}");
  const auto j = log.OneJson();
  EXPECT_EQ(j.size(), 3u) << j;
  EXPECT_EQ(j["level"], "warning");
  EXPECT_EQ(j["msg"], "accept failed: x status=200 level=debug\n{\"msg\":\"forged\"}");
}

TEST(LogFormatTextTest, StructuredRecordKeepsTheKeyValueStyle) {
  CapturedLog log(LogFormat::kText);
  LogInfo("access", {{"protocol", "http"},
                     {"method", "GET"},
                     {"target", "/v2/health/live"},
                     {"status", 200},
                     {"ok", false},
                     {"pid", nullptr}});
  const std::string line = log.OneLine();
  EXPECT_TRUE(std::regex_match(
      line, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z info access protocol=http )"
                       R"(method=GET target=/v2/health/live status=200 ok=false pid=-)")))
      << line;
}

TEST(LogFormatTextTest, EveryHostileValueIsOneLineAndUnescapesBack) {
  for (const auto& [v, valid_utf8] : HostileValues()) {
    CapturedLog log(LogFormat::kText);
    LogWarn("model error", {{"request_id", v}, {"status", 500}});
    const std::string line = log.OneLine();
    const auto fields = TextFields(line, "model error");
    EXPECT_EQ(fields.size(), 2u) << line;
    EXPECT_EQ(fields.at("status"), "500") << line;
    EXPECT_EQ(fields.at("request_id"), v) << line;  // \xNN keeps even invalid bytes
    for (unsigned char c : line) EXPECT_TRUE(c >= 0x20 && c != 0x7f) << int(c) << " in " << line;
  }
}

TEST(LogFormatTextTest, EscapesEachSpecialCharacter) {
  const std::pair<std::string, std::string> cases[] = {
      {"plain", "plain"},
      {"", R"("")"},
      {"a b", R"("a b")"},
      {"k=v", R"("k=v")"},
      {"a\"b", R"("a\"b")"},
      {"a\\b", R"("a\\b")"},
      {"a\nb", R"("a\nb")"},
      {"a\tb", R"("a\tb")"},
      {"a\rb", R"("a\rb")"},
      {std::string("a\0b", 3), R"("a\x00b")"},
      {"\x1b", R"("\x1b")"},
      {"\x7f", R"("\x7f")"},
      {"\xff", R"("\xff")"},
      {"caf\xc3\xa9", "\"caf\xc3\xa9\""},
      {"\xe2\x80\xa8", R"("\u2028")"},
  };
  for (const auto& [in, want] : cases) {
    spdlog::memory_buf_t out;
    AppendTextValue(in, out);
    EXPECT_EQ(std::string(out.data(), out.size()), want);
  }
}

TEST(LogFormatTextTest, FakeFieldInAValueStaysInsideItsQuotes) {
  CapturedLog log(LogFormat::kText);
  LogInfo("access", {{"request_id", "abc status=200 target=/v2/health/live"}, {"status", 400}});
  const std::string line = log.OneLine();
  EXPECT_NE(line.find(R"(request_id="abc status=200 target=/v2/health/live" status=400)"),
            std::string::npos)
      << line;
  EXPECT_EQ(TextFields(line, "access").at("status"), "400");
}

TEST(LogFormatTextTest, OneMebibyteValueIsCutAndQuoted) {
  CapturedLog log(LogFormat::kText);
  LogInfo("worker output", {{"line", std::string(1 << 20, 'a')}, {"pid", 7}});
  const std::string line = log.OneLine();
  EXPECT_LT(line.size(), kMaxLogValueBytes + 200);
  const auto fields = TextFields(line, "worker output");
  EXPECT_EQ(fields.at("line"), std::string(kMaxLogValueBytes, 'a') + "\xe2\x80\xa6");
  EXPECT_EQ(fields.at("pid"), "7");
}

TEST(LogFormatTextTest, TracebackIsOneEscapedLine) {
  CapturedLog log(LogFormat::kText);
  LogWarn("model error", {{"traceback", "Traceback:\n  File \"m.py\"\nValueError: x"}});
  EXPECT_NE(log.OneLine().find(R"(traceback="Traceback:\n  File \"m.py\"\nValueError: x")"),
            std::string::npos)
      << log.text();
}

TEST(LogFormatTextTest, PlainSpdlogTextIsOneQuotedValue) {
  CapturedLog log(LogFormat::kText);
  spdlog::info("{}", "x status=200\n2026-01-01T00:00:00.000000Z info forged=1");
  const std::string line = log.OneLine();
  EXPECT_NE(line.find(R"( info "x status=200\n2026-01-01T00:00:00.000000Z info forged=1")"),
            std::string::npos)
      << line;
}

TEST(LogFormatJsonTest, NonFiniteDoublesAreNullAndExtremesExact) {
  CapturedLog log(LogFormat::kJson);
  LogInfo("numbers", {{"nan", std::nan("")},
                      {"inf", HUGE_VAL},
                      {"ninf", -HUGE_VAL},
                      {"tiny", 5e-324},
                      {"min", INT64_MIN},
                      {"max", uint64_t{UINT64_MAX}}});
  const auto j = log.OneJson();
  EXPECT_TRUE(j["nan"].is_null()) << j;
  EXPECT_TRUE(j["inf"].is_null()) << j;
  EXPECT_TRUE(j["ninf"].is_null()) << j;
  EXPECT_EQ(j["tiny"].get<double>(), 5e-324);
  EXPECT_EQ(j["min"].get<int64_t>(), INT64_MIN);
  EXPECT_EQ(j["max"].get<uint64_t>(), UINT64_MAX);
}

TEST(LogFormatTextTest, NumbersAreBareAndShortest) {
  CapturedLog log(LogFormat::kText);
  LogInfo("numbers", {{"ratio", 0.1}, {"n", int64_t{-5}}, {"u", uint64_t{UINT64_MAX}}});
  const std::string line = log.OneLine();
  EXPECT_NE(line.find(" numbers ratio=0.1 n=-5 u=18446744073709551615"), std::string::npos) << line;
}

// A record the logging thread cannot decode in full (it never happens for
// one from EncodeLogRecord) keeps its fields up to the damage, and says so.
TEST(LogFormatTest, DamagedRecordKeepsWhatDecodedAndIsFlagged) {
  spdlog::memory_buf_t buf;
  EncodeLogRecord("ev", {{"a", "x"}, {"b", 7}}, buf);
  const std::string damaged(buf.data(), buf.size() - 3);  // into b's value
  for (LogFormat format : {LogFormat::kJson, LogFormat::kText}) {
    CapturedLog log(format);
    spdlog::default_logger()->log(spdlog::source_loc{kStructuredRecordTag, 1, kStructuredRecordTag},
                                  spdlog::level::info, std::string_view(damaged));
    const std::string line = log.OneLine();
    if (format == LogFormat::kJson) {
      const auto j = nlohmann::json::parse(line);
      EXPECT_EQ(j["msg"], "ev");
      EXPECT_EQ(j["a"], "x");
      EXPECT_FALSE(j.contains("b"));
      EXPECT_EQ(j["record_damaged"], true);
    } else {
      EXPECT_NE(line.find(" info ev a=x record_damaged=true"), std::string::npos) << line;
    }
  }
}

TEST(LogFormatTest, AppendersQuoteOnlyWhatNeedsIt) {
  const auto text = [](std::string_view s) {
    spdlog::memory_buf_t out;
    AppendTextValue(s, out);
    return std::string(out.data(), out.size());
  };
  const auto json = [](std::string_view s) {
    spdlog::memory_buf_t out;
    AppendJsonString(s, out);
    return std::string(out.data(), out.size());
  };
  EXPECT_EQ(text("plain-value_1.2"), "plain-value_1.2");
  EXPECT_EQ(text(""), "\"\"");
  EXPECT_EQ(text("a b"), "\"a b\"");
  EXPECT_EQ(text("k=v"), "\"k=v\"");
  EXPECT_EQ(text("caf\xc3\xa9"), "\"caf\xc3\xa9\"");  // valid UTF-8 kept, but quoted
  EXPECT_EQ(text("\x01"), "\"\\x01\"");
  EXPECT_EQ(json("plain"), "\"plain\"");
  EXPECT_EQ(json("\x01\x7f"), "\"\\u0001\\u007f\"");
  EXPECT_EQ(json("\xff"), "\"\\ufffd\"");
  EXPECT_EQ(json("\xe2\x80\xa8"), "\"\\u2028\"");
}

TEST(LogFormatTest, LevelBelowTheLoggerLevelWritesNothing) {
  CapturedLog log(LogFormat::kJson);
  spdlog::default_logger()->set_level(spdlog::level::warn);
  LogInfo("quiet", {{"status", 1}});
  LogDebug("quiet");
  EXPECT_EQ(log.text(), "");
  LogError("loud");
  EXPECT_EQ(log.OneJson()["level"], "error");
}

}  // namespace
}  // namespace modelgate
