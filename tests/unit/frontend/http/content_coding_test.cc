#include "frontend/http/content_coding.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <string>

namespace modelgate {
namespace {

std::string Mixed(size_t n) {
  std::mt19937 rng(7);
  std::string s;
  s.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    // Half text (compressible), half random bytes (not), NULs included.
    s.push_back(i % 2 ? static_cast<char>(rng()) : "{\"data\":[1.5,2]}"[i % 16]);
  }
  return s;
}

// Raw deflate (RFC 1951), as some clients send under `deflate`.
std::string RawDeflate(const std::string& in) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, in.size()) + 16, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

TEST(ContentCodingTest, GzipAndDeflateRoundTripExactly) {
  for (ContentCoding c : {ContentCoding::kGzip, ContentCoding::kDeflate}) {
    for (size_t n : {size_t{1}, size_t{1000}, size_t{300 * 1024}}) {
      const std::string body = Mixed(n);
      const std::string packed = CompressBody(body, c).value();
      EXPECT_NE(packed, body);
      auto back = InflateBody(packed, c, n);
      ASSERT_TRUE(back.ok()) << back.status().message();
      EXPECT_EQ(*back, body) << ContentCodingName(c) << " " << n;
    }
  }
}

TEST(ContentCodingTest, GzipHasItsMagicAndDeflateTheZlibHeader) {
  const std::string gz = CompressBody("hello", ContentCoding::kGzip).value();
  ASSERT_GE(gz.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(gz[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(gz[1]), 0x8b);
  const std::string zl = CompressBody("hello", ContentCoding::kDeflate).value();
  ASSERT_GE(zl.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(zl[0]) & 0x0F, 8);
  EXPECT_EQ(((static_cast<unsigned char>(zl[0]) << 8) | static_cast<unsigned char>(zl[1])) % 31, 0);
}

TEST(ContentCodingTest, RawDeflateIsAcceptedAsDeflate) {
  const std::string body = Mixed(5000);
  auto back = InflateBody(RawDeflate(body), ContentCoding::kDeflate, body.size());
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, body);
}

TEST(ContentCodingTest, ConcatenatedGzipMembersInflateToTheirConcatenation) {
  const std::string a = Mixed(100), b = "second member";
  auto back = InflateBody(
      CompressBody(a, ContentCoding::kGzip).value() + CompressBody(b, ContentCoding::kGzip).value(),
      ContentCoding::kGzip, 1000);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, a + b);
}

TEST(ContentCodingTest, TheLimitIsExactAndABombStopsThere) {
  const std::string body(100000, 'z');
  for (ContentCoding c : {ContentCoding::kGzip, ContentCoding::kDeflate}) {
    const std::string packed = CompressBody(body, c).value();
    EXPECT_TRUE(InflateBody(packed, c, body.size()).ok());
    auto over = InflateBody(packed, c, body.size() - 1);
    ASSERT_FALSE(over.ok());
    EXPECT_EQ(over.status().code(), StatusCode::kTooLarge);
    EXPECT_NE(over.status().message().find("limit of 99999 bytes"), std::string::npos)
        << over.status().message();
  }
  // 16 MiB of zeros is ~16 KiB gzipped; with a 1 MiB limit it is refused.
  const std::string bomb = CompressBody(std::string(16u << 20, '\0'), ContentCoding::kGzip).value();
  EXPECT_LT(bomb.size(), 1u << 20);
  auto r = InflateBody(bomb, ContentCoding::kGzip, 1u << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kTooLarge);
}

TEST(ContentCodingTest, CorruptTruncatedOrTrailingBytesAreInvalid) {
  const std::string packed = CompressBody(Mixed(4000), ContentCoding::kGzip).value();
  std::string corrupt = packed;
  corrupt[corrupt.size() / 2] ^= 0x55;
  corrupt[corrupt.size() / 2 + 1] ^= 0x55;
  const struct {
    std::string body;
    ContentCoding coding;
    const char* expect;
  } cases[] = {
      {"", ContentCoding::kGzip, "truncated"},
      {"not gzip at all", ContentCoding::kGzip, "does not inflate"},
      {packed.substr(0, packed.size() / 2), ContentCoding::kGzip, "truncated"},
      {corrupt, ContentCoding::kGzip, "does not inflate"},
      {packed + "garbage", ContentCoding::kGzip, "follow the end"},
      {CompressBody("x", ContentCoding::kDeflate).value() + "x", ContentCoding::kDeflate,
       "follow the end"},
      {"{\"plain\": true}", ContentCoding::kDeflate, "does not inflate"},
  };
  for (const auto& c : cases) {
    auto r = InflateBody(c.body, c.coding, 1u << 20);
    ASSERT_FALSE(r.ok()) << c.expect;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().message();
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(ContentCodingName(c.coding)), std::string::npos);
  }
}

TEST(ContentCodingTest, CodingTokens) {
  EXPECT_EQ(ParseContentCoding("gzip"), ContentCoding::kGzip);
  EXPECT_EQ(ParseContentCoding(" X-GZIP "), ContentCoding::kGzip);
  EXPECT_EQ(ParseContentCoding("Deflate"), ContentCoding::kDeflate);
  EXPECT_EQ(ParseContentCoding("identity"), ContentCoding::kIdentity);
  EXPECT_EQ(ParseContentCoding("br"), std::nullopt);
  EXPECT_EQ(ParseContentCoding("compress"), std::nullopt);
  EXPECT_EQ(ParseContentCoding(""), std::nullopt);
}

TEST(ContentCodingTest, AcceptEncodingFollowsQValues) {
  using C = ContentCoding;
  const struct {
    std::optional<std::string_view> header;
    ContentCoding expect;
  } cases[] = {
      {std::nullopt, C::kIdentity},
      {"", C::kIdentity},
      {"gzip", C::kGzip},
      {"deflate", C::kDeflate},
      {"deflate, gzip", C::kGzip},  // a tie goes to gzip
      {"deflate, gzip;q=0.5", C::kDeflate},
      {"gzip;q=0, deflate;q=0.001", C::kDeflate},
      {"GZIP;Q=1.000", C::kGzip},
      {"gzip ; q=0.8 , deflate ; q=0.9", C::kDeflate},
      {"*", C::kGzip},
      {"*;q=0", C::kIdentity},
      {"*;q=0.5, gzip;q=0", C::kDeflate},
      {"identity;q=0", C::kIdentity},
      {"identity, gzip;q=0", C::kIdentity},
      {"br, zstd", C::kIdentity},
      {"gzip;q=0", C::kIdentity},
      {"gzip;q=1.5", C::kIdentity},  // malformed weights are ignored
      {"gzip;q=abc", C::kIdentity},
      {"x-gzip;q=0.3, deflate;q=0.2", C::kGzip},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(ChooseResponseCoding(c.header), c.expect)
        << (c.header ? std::string(*c.header) : "(none)");
  }
}

}  // namespace
}  // namespace modelgate
