#include "observability/log_format.h"

#include <array>
#include <charconv>
#include <cmath>
#include <ctime>

#include "observability/log_record.h"

namespace modelgate {

namespace {

constexpr char kHex[] = "0123456789abcdef";

void Append(spdlog::memory_buf_t& out, std::string_view s) {
  out.append(s.data(), s.data() + s.size());
}

template <typename T>
void AppendNumber(spdlog::memory_buf_t& out, T v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void AppendU4(spdlog::memory_buf_t& out, char32_t cp) {  // \uXXXX, cp <= 0xFFFF
  const char esc[] = {
      '\\',          'u', kHex[(cp >> 12) & 0xF], kHex[(cp >> 8) & 0xF], kHex[(cp >> 4) & 0xF],
      kHex[cp & 0xF]};
  out.append(esc, esc + sizeof esc);
}

void AppendX2(spdlog::memory_buf_t& out, unsigned char c) {  // \xNN
  const char esc[] = {'\\', 'x', kHex[c >> 4], kHex[c & 0xF]};
  out.append(esc, esc + sizeof esc);
}

// Length (2..4) of the well-formed UTF-8 sequence starting at s[i], with its
// code point in *cp; 0 if the bytes there are not one (overlong, surrogate,
// past U+10FFFF, truncated). s[i] must be >= 0x80.
size_t Utf8Sequence(std::string_view s, size_t i, char32_t* cp) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char b0 = b(0);
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() - i < len || b(1) < lo || b(1) > hi) return 0;
  char32_t c = b0 & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) {
    if ((b(k) & 0xC0) != 0x80) return 0;
    c = (c << 6) | (b(k) & 0x3F);
  }
  *cp = c;
  return len;
}

// Code points that are valid but move or hide text in a terminal or viewer:
// C1 controls, line/paragraph separators, bidirectional controls.
bool IsHiddenControl(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 || cp == 0x061C ||
         cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

// Escapes `s` for inside the quotes of a JSON string (json) or of a text
// value (!json). Runs of bytes that need nothing are copied in one piece.
void AppendEscaped(std::string_view s, bool json, spdlog::memory_buf_t& out) {
  size_t run = 0;
  const auto flush = [&](size_t i) { out.append(s.data() + run, s.data() + i); };
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    flush(i);
    size_t used = 1;
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c == '\n') {
      Append(out, "\\n");
    } else if (c == '\r') {
      Append(out, "\\r");
    } else if (c == '\t') {
      Append(out, "\\t");
    } else if (c < 0x80) {  // other C0 controls and DEL
      json ? AppendU4(out, c) : AppendX2(out, c);
    } else {
      char32_t cp = 0;
      used = Utf8Sequence(s, i, &cp);
      if (used == 0) {  // not UTF-8: JSON cannot carry the byte, text shows it
        used = 1;
        json ? Append(out, "\\ufffd") : AppendX2(out, c);
      } else if (IsHiddenControl(cp)) {
        AppendU4(out, cp);
      } else {
        out.append(s.data() + i, s.data() + i + used);
      }
    }
    i += used;
    run = i;
  }
  flush(s.size());
}

bool IsBareTextValue(std::string_view s) {
  if (s.empty()) return false;
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7F || c == '=' || c == '"' || c == '\\') return false;
  }
  return true;
}

// A string value (of a field, or a plain message): JSON always quoted, text
// bare when it can be; `cut` adds the marker (not ASCII, so text quotes it).
void AppendString(std::string_view s, bool cut, bool json, spdlog::memory_buf_t& out) {
  if (!json && !cut && IsBareTextValue(s)) {
    Append(out, s);
    return;
  }
  out.push_back('"');
  AppendEscaped(s, json, out);
  if (cut) Append(out, kLogCutMarker);
  out.push_back('"');
}

// Keys are checked literals, but a key repeated in one record must not
// override or shadow the first: later ones are dropped.
class FirstKeyOnly {
 public:
  bool Admit(std::string_view key) {
    for (size_t k = 0; k < count_; ++k) {
      if (seen_[k] == key) return false;
    }
    if (count_ < seen_.size()) seen_[count_++] = key;
    return true;
  }

 private:
  std::array<std::string_view, kMaxLogFields> seen_;
  size_t count_ = 0;
};

class JsonWriter final : public LogRecordVisitor {
 public:
  explicit JsonWriter(spdlog::memory_buf_t& out) : out_(out) {}

  void Event(std::string_view event) override {
    Append(out_, ",\"msg\":");
    AppendJsonString(event, out_);
  }

  void Field(std::string_view key, const LogValue& v, bool cut) override {
    if (!keys_.Admit(key)) return;
    out_.push_back(',');
    AppendJsonString(key, out_);
    out_.push_back(':');
    switch (v.type()) {
      case LogValue::Type::kString:
        AppendString(v.str(), cut, true, out_);
        break;
      case LogValue::Type::kInt:
        AppendNumber(out_, v.i());
        break;
      case LogValue::Type::kUint:
        AppendNumber(out_, v.u());
        break;
      case LogValue::Type::kDouble:
        if (std::isfinite(v.d())) {
          AppendNumber(out_, v.d());
        } else {
          Append(out_, "null");
        }
        break;
      case LogValue::Type::kBool:
        Append(out_, v.b() ? "true" : "false");
        break;
      case LogValue::Type::kNull:
        Append(out_, "null");
        break;
    }
  }

 private:
  spdlog::memory_buf_t& out_;
  FirstKeyOnly keys_;
};

class TextWriter final : public LogRecordVisitor {
 public:
  explicit TextWriter(spdlog::memory_buf_t& out) : out_(out) {}

  void Event(std::string_view event) override { Append(out_, event); }  // a checked literal

  void Field(std::string_view key, const LogValue& v, bool cut) override {
    if (!keys_.Admit(key)) return;
    out_.push_back(' ');
    Append(out_, key);
    out_.push_back('=');
    switch (v.type()) {
      case LogValue::Type::kString:
        AppendString(v.str(), cut, false, out_);
        break;
      case LogValue::Type::kInt:
        AppendNumber(out_, v.i());
        break;
      case LogValue::Type::kUint:
        AppendNumber(out_, v.u());
        break;
      case LogValue::Type::kDouble:
        AppendNumber(out_, v.d());
        break;
      case LogValue::Type::kBool:
        Append(out_, v.b() ? "true" : "false");
        break;
      case LogValue::Type::kNull:
        out_.push_back('-');
        break;
    }
  }

 private:
  spdlog::memory_buf_t& out_;
  FirstKeyOnly keys_;
};

class LineFormatter final : public spdlog::formatter {
 public:
  explicit LineFormatter(LogFormat format) : format_(format) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const bool json = format_ == LogFormat::kJson;
    const auto level = spdlog::level::to_string_view(msg.level);
    if (json) Append(dest, "{\"ts\":\"");
    AppendTimestamp(msg.time, dest);
    Append(dest, json ? "\",\"level\":\"" : " ");
    Append(dest, std::string_view(level.data(), level.size()));
    Append(dest, json ? "\"" : " ");

    const std::string_view payload(msg.payload.data(), msg.payload.size());
    if (msg.source.filename == kStructuredRecordTag) {
      bool ok;
      if (json) {
        JsonWriter w(dest);
        ok = DecodeLogRecord(payload, w);
      } else {
        TextWriter w(dest);
        ok = DecodeLogRecord(payload, w);
      }
      if (!ok) Append(dest, json ? ",\"record_damaged\":true" : " record_damaged=true");
    } else {  // free text from a plain spdlog call
      bool cut = false;
      const std::string_view text = CutLogValue(payload, &cut);
      if (json) Append(dest, ",\"msg\":");
      AppendString(text, cut, json, dest);
    }
    Append(dest, json ? "}\n" : "\n");
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<LineFormatter>(format_);
  }

 private:
  // 2026-11-22T10:00:00.123456Z; the date part is cached per second.
  void AppendTimestamp(spdlog::log_clock::time_point t, spdlog::memory_buf_t& dest) {
    const auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
    const std::time_t secs = static_cast<std::time_t>(us / 1000000);
    if (secs != cached_secs_) {
      std::tm tm;
      gmtime_r(&secs, &tm);
      cached_len_ = std::strftime(cached_, sizeof cached_, "%Y-%m-%dT%H:%M:%S", &tm);
      cached_secs_ = secs;
    }
    dest.append(cached_, cached_ + cached_len_);
    char frac[8];
    long long f = us % 1000000;
    frac[0] = '.';
    for (int k = 6; k >= 1; --k, f /= 10) frac[k] = static_cast<char>('0' + f % 10);
    frac[7] = 'Z';
    dest.append(frac, frac + sizeof frac);
  }

  LogFormat format_;
  std::time_t cached_secs_ = -1;
  char cached_[32] = {};
  size_t cached_len_ = 0;
};

}  // namespace

std::unique_ptr<spdlog::formatter> MakeLogFormatter(LogFormat format) {
  return std::make_unique<LineFormatter>(format);
}

void AppendJsonString(std::string_view s, spdlog::memory_buf_t& out) {
  AppendString(s, false, true, out);
}

void AppendTextValue(std::string_view s, spdlog::memory_buf_t& out) {
  AppendString(s, false, false, out);
}

}  // namespace modelgate
