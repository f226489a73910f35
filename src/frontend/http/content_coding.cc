#include "frontend/http/content_coding.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <memory>

namespace modelgate {

namespace {

// zlib's window bits: 15 (32 KiB) plus 16 for the gzip wrapper; negative
// for raw deflate.
constexpr int kWindowBits = MAX_WBITS;
constexpr int kGzipWindowBits = 16 + MAX_WBITS;
// Responses: speed over ratio (JSON numbers compress well already at 1).
constexpr int kResponseLevel = 1;
// The first output buffer of an inflation; it doubles up to the limit.
constexpr size_t kFirstInflateChunk = 64 * 1024;
// zlib counts in uInt: bodies are fed in pieces no larger than this.
constexpr size_t kMaxZlibPiece = 1u << 30;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A zlib (RFC 1950) header: method 8 and a check sum divisible by 31.
bool HasZlibHeader(std::string_view body) {
  if (body.size() < 2) return false;
  const auto b0 = static_cast<unsigned char>(body[0]);
  const auto b1 = static_cast<unsigned char>(body[1]);
  return (b0 & 0x0F) == 8 && (b0 >> 4) <= 7 && ((b0 << 8) | b1) % 31 == 0;
}

bool IsGzipMember(std::string_view rest) {
  return rest.size() >= 2 && static_cast<unsigned char>(rest[0]) == 0x1f &&
         static_cast<unsigned char>(rest[1]) == 0x8b;
}

struct InflateStream {
  z_stream z{};
  bool open = false;
  ~InflateStream() {
    if (open) inflateEnd(&z);
  }
};

// `out` grows to exactly `size` bytes of capacity (std::string's own growth
// may double, which would let a bomb allocate twice the limit).
void GrowExactly(std::string& out, size_t used, size_t size) {
  std::string bigger;
  bigger.reserve(size);
  bigger.append(out.data(), used);
  bigger.resize(size);
  out.swap(bigger);
}

}  // namespace

std::string_view ContentCodingName(ContentCoding coding) {
  switch (coding) {
    case ContentCoding::kGzip:
      return "gzip";
    case ContentCoding::kDeflate:
      return "deflate";
    case ContentCoding::kIdentity:
      break;
  }
  return "identity";
}

std::optional<ContentCoding> ParseContentCoding(std::string_view token) {
  const std::string t = Lower(Trim(token));
  if (t == "identity") return ContentCoding::kIdentity;
  if (t == "gzip" || t == "x-gzip") return ContentCoding::kGzip;
  if (t == "deflate") return ContentCoding::kDeflate;
  return std::nullopt;
}

StatusOr<std::string> InflateBody(std::string_view body, ContentCoding coding, size_t max_bytes) {
  if (coding == ContentCoding::kIdentity) return std::string(body);
  const std::string name(ContentCodingName(coding));
  const bool raw = coding == ContentCoding::kDeflate && !HasZlibHeader(body);
  InflateStream s;
  const int bits = coding == ContentCoding::kGzip ? kGzipWindowBits
                   : raw                          ? -kWindowBits
                                                  : kWindowBits;
  if (inflateInit2(&s.z, bits) != Z_OK) return Internal("zlib: inflateInit2 failed");
  s.open = true;
  auto corrupt = [&](const char* why) {
    return InvalidArgument("request body with Content-Encoding " + name + " does not inflate: " +
                           why + " (at compressed byte " + std::to_string(s.z.total_in) + ")");
  };
  // One byte past the limit proves the limit is passed.
  const size_t hard = max_bytes + 1;
  std::string out;
  size_t used = 0;
  size_t in_offset = 0;
  for (;;) {
    if (s.z.avail_in == 0 && in_offset < body.size()) {
      const size_t piece = std::min(kMaxZlibPiece, body.size() - in_offset);
      s.z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data() + in_offset));
      s.z.avail_in = static_cast<uInt>(piece);
      in_offset += piece;
    }
    if (used == out.size()) {
      if (used >= hard) break;
      GrowExactly(out, used, std::min(hard, std::max(kFirstInflateChunk, out.size() * 2)));
    }
    const size_t room = std::min(kMaxZlibPiece, out.size() - used);
    s.z.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    s.z.avail_out = static_cast<uInt>(room);
    const int rc = inflate(&s.z, Z_NO_FLUSH);
    used += room - s.z.avail_out;
    if (used > max_bytes) break;
    if (rc == Z_STREAM_END) {
      const size_t consumed = in_offset - s.z.avail_in;
      const std::string_view rest = body.substr(consumed);
      if (rest.empty()) {
        out.resize(used);
        return out;
      }
      // gzip: another member may follow; anything else is not ours to guess.
      if (coding != ContentCoding::kGzip || !IsGzipMember(rest)) {
        return InvalidArgument("request body with Content-Encoding " + name + ": " +
                               std::to_string(rest.size()) +
                               " bytes follow the end of the compressed stream (at byte " +
                               std::to_string(consumed) + ")");
      }
      if (inflateReset(&s.z) != Z_OK) return Internal("zlib: inflateReset failed");
      continue;
    }
    if (rc == Z_NEED_DICT) return corrupt("it asks for a preset dictionary");
    if (rc == Z_DATA_ERROR) return corrupt(s.z.msg ? s.z.msg : "invalid data");
    if (rc == Z_MEM_ERROR) return Internal("zlib: out of memory while inflating");
    if (rc == Z_BUF_ERROR && s.z.avail_in == 0 && in_offset == body.size() && s.z.avail_out > 0) {
      return corrupt("the stream is truncated");
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) return corrupt("zlib error");
  }
  return Status(StatusCode::kTooLarge, "request body with Content-Encoding " + name +
                                           " inflates to more than the limit of " +
                                           std::to_string(max_bytes) + " bytes");
}

StatusOr<std::string> CompressBody(std::string_view body, ContentCoding coding) {
  if (coding == ContentCoding::kIdentity) return std::string(body);
  z_stream z{};
  const int bits = coding == ContentCoding::kGzip ? kGzipWindowBits : kWindowBits;
  if (deflateInit2(&z, kResponseLevel, Z_DEFLATED, bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Internal("zlib: deflateInit2 failed");
  }
  std::string out;
  // deflateBound is exact enough for one Z_FINISH pass; the gzip wrapper adds 18 bytes.
  out.resize(deflateBound(&z, static_cast<uLong>(body.size())) + 32);
  size_t in_offset = 0;
  size_t used = 0;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (z.avail_in == 0 && in_offset < body.size()) {
      const size_t piece = std::min(kMaxZlibPiece, body.size() - in_offset);
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data() + in_offset));
      z.avail_in = static_cast<uInt>(piece);
      in_offset += piece;
    }
    if (used == out.size()) out.resize(out.size() * 2);
    const size_t room = std::min(kMaxZlibPiece, out.size() - used);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    z.avail_out = static_cast<uInt>(room);
    rc = deflate(&z, in_offset == body.size() ? Z_FINISH : Z_NO_FLUSH);
    used += room - z.avail_out;
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) break;
  }
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return Internal("zlib: deflate failed");
  out.resize(used);
  return out;
}

ContentCoding ChooseResponseCoding(std::optional<std::string_view> accept_encoding) {
  if (!accept_encoding) return ContentCoding::kIdentity;
  // q-values in thousandths; -1: not listed.
  int gzip = -1, deflate = -1, any = -1;
  std::string_view v = *accept_encoding;
  while (!v.empty()) {
    const size_t comma = v.find(',');
    std::string_view element = v.substr(0, comma);
    v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
    const size_t semi = element.find(';');
    const std::string coding = Lower(Trim(element.substr(0, semi)));
    if (coding.empty()) continue;
    int q = 1000;
    if (semi != std::string_view::npos) {
      // weight = OWS ";" OWS "q=" qvalue; qvalue = 0[.ddd] / 1[.000]
      std::string_view p = Trim(element.substr(semi + 1));
      if (p.size() < 3 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=') continue;
      p.remove_prefix(2);
      if (p.size() > 5 || (p[0] != '0' && p[0] != '1') || (p.size() > 1 && p[1] != '.')) continue;
      int value = (p[0] - '0') * 1000;
      bool ok = true;
      for (size_t i = 2, scale = 100; i < p.size(); ++i, scale /= 10) {
        if (p[i] < '0' || p[i] > '9') ok = false;
        value += (p[i] - '0') * static_cast<int>(scale);
      }
      if (!ok || value > 1000) continue;  // a malformed weight: the element is ignored
      q = value;
    }
    if (coding == "gzip" || coding == "x-gzip") gzip = std::max(gzip, q);
    if (coding == "deflate") deflate = std::max(deflate, q);
    if (coding == "*") any = q;
  }
  if (gzip < 0) gzip = any;
  if (deflate < 0) deflate = any;
  if (gzip <= 0 && deflate <= 0) return ContentCoding::kIdentity;
  return gzip >= deflate ? ContentCoding::kGzip : ContentCoding::kDeflate;
}

}  // namespace modelgate
