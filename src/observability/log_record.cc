#include "observability/log_record.h"

#include <cstring>

namespace modelgate {

const char kStructuredRecordTag[] = "modelgate-structured-record";

namespace {

constexpr uint8_t kCutFlag = 0x80;  // in a field's type byte: the string was cut

template <typename T>
void AppendRaw(spdlog::memory_buf_t& out, const T& v) {
  const char* p = reinterpret_cast<const char*>(&v);
  out.append(p, p + sizeof v);
}

void AppendBytes(spdlog::memory_buf_t& out, std::string_view s) {
  out.append(s.data(), s.data() + s.size());
}

// Reads from a payload, refusing to run past its end.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool done() const { return at_ == in_.size(); }
  template <typename T>
  bool Raw(T* v) {
    if (in_.size() - at_ < sizeof(T)) return false;
    std::memcpy(v, in_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return true;
  }
  bool Bytes(size_t n, std::string_view* s) {
    if (in_.size() - at_ < n) return false;
    *s = in_.substr(at_, n);
    at_ += n;
    return true;
  }

 private:
  std::string_view in_;
  size_t at_ = 0;
};

}  // namespace

std::string_view CutLogValue(std::string_view s, bool* cut) {
  *cut = s.size() > kMaxLogValueBytes;
  if (!*cut) return s;
  size_t n = kMaxLogValueBytes;
  // Back off over continuation bytes (10xxxxxx) to the start of a sequence.
  for (int i = 0; i < 3 && n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80; ++i) --n;
  return s.substr(0, n);
}

void EncodeLogRecord(LogEvent event, LogFields fields, spdlog::memory_buf_t& out) {
  out.push_back(static_cast<char>(event.text().size()));  // <= LogEvent::kMaxBytes
  AppendBytes(out, event.text());
  size_t count = 0;
  for (const LogField& f : fields) {
    if (++count > kMaxLogFields) break;
    const LogValue& v = f.value;
    bool cut = false;
    const std::string_view s =
        v.type() == LogValue::Type::kString ? CutLogValue(v.str(), &cut) : std::string_view();
    out.push_back(static_cast<char>(static_cast<uint8_t>(v.type()) | (cut ? kCutFlag : 0)));
    out.push_back(static_cast<char>(f.key.text().size()));  // <= LogKey::kMaxBytes
    AppendBytes(out, f.key.text());
    switch (v.type()) {
      case LogValue::Type::kString:
        AppendRaw(out, static_cast<uint32_t>(s.size()));
        AppendBytes(out, s);
        break;
      case LogValue::Type::kInt:
        AppendRaw(out, v.i());
        break;
      case LogValue::Type::kUint:
        AppendRaw(out, v.u());
        break;
      case LogValue::Type::kDouble:
        AppendRaw(out, v.d());
        break;
      case LogValue::Type::kBool:
        out.push_back(v.b() ? 1 : 0);
        break;
      case LogValue::Type::kNull:
        break;
    }
  }
}

bool DecodeLogRecord(std::string_view payload, LogRecordVisitor& visitor) {
  Reader r(payload);
  uint8_t len = 0;
  std::string_view text;
  if (!r.Raw(&len) || !r.Bytes(len, &text)) return false;
  visitor.Event(text);
  while (!r.done()) {
    uint8_t type = 0;
    std::string_view key;
    if (!r.Raw(&type) || !r.Raw(&len) || !r.Bytes(len, &key)) return false;
    const bool cut = (type & kCutFlag) != 0;
    switch (static_cast<LogValue::Type>(type & ~kCutFlag)) {
      case LogValue::Type::kString: {
        uint32_t n = 0;
        std::string_view s;
        if (!r.Raw(&n) || !r.Bytes(n, &s)) return false;
        visitor.Field(key, LogValue(s), cut);
        break;
      }
      case LogValue::Type::kInt: {
        int64_t i = 0;
        if (!r.Raw(&i)) return false;
        visitor.Field(key, LogValue(i), false);
        break;
      }
      case LogValue::Type::kUint: {
        uint64_t u = 0;
        if (!r.Raw(&u)) return false;
        visitor.Field(key, LogValue(u), false);
        break;
      }
      case LogValue::Type::kDouble: {
        double d = 0;
        if (!r.Raw(&d)) return false;
        visitor.Field(key, LogValue(d), false);
        break;
      }
      case LogValue::Type::kBool: {
        uint8_t b = 0;
        if (!r.Raw(&b)) return false;
        visitor.Field(key, LogValue(b != 0), false);
        break;
      }
      case LogValue::Type::kNull:
        visitor.Field(key, LogValue(nullptr), false);
        break;
      default:
        return false;
    }
  }
  return true;
}

}  // namespace modelgate
