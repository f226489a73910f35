#include "frontend/http/request_header_checks.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <utility>

namespace modelgate {
namespace {

namespace http = boost::beast::http;

http::request_header<> Header(unsigned version,
                              std::initializer_list<std::pair<http::field, const char*>> fields) {
  http::request_header<> h;
  h.method(http::verb::post);
  h.target("/v2/models/m/infer");
  h.version(version);
  for (const auto& [f, v] : fields) h.insert(f, v);
  return h;
}

TEST(RequestHeaderChecksTest, PlainRequestsAreAcceptable) {
  auto v = CheckRequestHeader(Header(11, {{http::field::host, "x"}}));
  EXPECT_EQ(v.status, 0u);
  EXPECT_FALSE(v.expect_continue);
  EXPECT_EQ(CheckRequestHeader(Header(10, {})).status, 0u);  // HTTP/1.0 needs no Host
  EXPECT_EQ(CheckRequestHeader(
                Header(11, {{http::field::host, "x"}, {http::field::transfer_encoding, "Chunked"}}))
                .status,
            0u);
}

TEST(RequestHeaderChecksTest, Http11WithoutExactlyOneHostIs400) {
  auto v = CheckRequestHeader(Header(11, {}));
  EXPECT_EQ(v.status, 400u);
  EXPECT_NE(v.message.find("Host"), std::string::npos);
  EXPECT_EQ(
      CheckRequestHeader(Header(11, {{http::field::host, "a"}, {http::field::host, "b"}})).status,
      400u);
}

TEST(RequestHeaderChecksTest, TransferCodingsOtherThanChunkedAreRefused) {
  auto gzip_chunked = CheckRequestHeader(
      Header(11, {{http::field::host, "x"}, {http::field::transfer_encoding, "gzip, chunked"}}));
  EXPECT_EQ(gzip_chunked.status, 501u);
  EXPECT_NE(gzip_chunked.message.find("'gzip, chunked'"), std::string::npos);
  EXPECT_NE(gzip_chunked.message.find("Content-Encoding"), std::string::npos);
  // Split over two lines it is the same list.
  EXPECT_EQ(CheckRequestHeader(Header(11, {{http::field::host, "x"},
                                           {http::field::transfer_encoding, "gzip"},
                                           {http::field::transfer_encoding, "chunked"}}))
                .status,
            501u);
  // Not ending in chunked: the body length is unknown.
  EXPECT_EQ(CheckRequestHeader(
                Header(11, {{http::field::host, "x"}, {http::field::transfer_encoding, "gzip"}}))
                .status,
            400u);
  EXPECT_EQ(CheckRequestHeader(Header(11, {{http::field::host, "x"},
                                           {http::field::transfer_encoding, "chunked, gzip"}}))
                .status,
            400u);
  EXPECT_EQ(CheckRequestHeader(Header(10, {{http::field::transfer_encoding, "chunked"}})).status,
            400u);
}

TEST(RequestHeaderChecksTest, UnknownOrStackedContentCodingsAre415) {
  auto v = CheckRequestHeader(
      Header(11, {{http::field::host, "x"}, {http::field::content_encoding, "br"}}));
  EXPECT_EQ(v.status, 415u);
  EXPECT_NE(v.message.find("'br'"), std::string::npos);
  EXPECT_EQ(CheckRequestHeader(Header(11, {{http::field::host, "x"},
                                           {http::field::content_encoding, "gzip, gzip"}}))
                .status,
            415u);
}

TEST(RequestHeaderChecksTest, GzipDeflateAndIdentityAreAccepted) {
  for (const char* coding : {"identity", "gzip", "GZIP", "x-gzip", "deflate", "identity, gzip"}) {
    const auto h = Header(11, {{http::field::host, "x"}, {http::field::content_encoding, coding}});
    EXPECT_EQ(CheckRequestHeader(h).status, 0u) << coding;
  }
  EXPECT_EQ(RequestBodyCoding(Header(11, {{http::field::content_encoding, "x-gzip"}})),
            ContentCoding::kGzip);
  EXPECT_EQ(RequestBodyCoding(Header(11, {{http::field::content_encoding, "deflate"}})),
            ContentCoding::kDeflate);
  EXPECT_EQ(RequestBodyCoding(Header(11, {{http::field::host, "x"}})), ContentCoding::kIdentity);
}

TEST(RequestHeaderChecksTest, ExpectContinueIsHonouredOtherExpectationsAre417) {
  auto v = CheckRequestHeader(
      Header(11, {{http::field::host, "x"}, {http::field::expect, "100-Continue"}}));
  EXPECT_EQ(v.status, 0u);
  EXPECT_TRUE(v.expect_continue);
  EXPECT_EQ(CheckRequestHeader(
                Header(11, {{http::field::host, "x"}, {http::field::expect, "something-else"}}))
                .status,
            417u);
  // HTTP/1.0 expectations are ignored (RFC 9110 section 10.1.1).
  auto v10 = CheckRequestHeader(Header(10, {{http::field::expect, "100-continue"}}));
  EXPECT_EQ(v10.status, 0u);
  EXPECT_FALSE(v10.expect_continue);
}

TEST(RequestHeaderChecksTest, QuotedValuesAreBounded) {
  std::string huge(10000, 'a');
  auto v = CheckRequestHeader(
      Header(11, {{http::field::host, "x"}, {http::field::content_encoding, huge.c_str()}}));
  EXPECT_EQ(v.status, 415u);
  EXPECT_LT(v.message.size(), kMaxQuotedValueBytes + 200);
}

TEST(RequestHeaderChecksTest, ProbesAreBodylessGetsOfTheListedPaths) {
  const std::vector<std::string> paths{"/v2/health/live", "/metrics"};
  auto get = [](const char* target) {
    http::request_header<> h;
    h.method(http::verb::get);
    h.target(target);
    h.version(11);
    return h;
  };
  EXPECT_TRUE(IsProbeRequest(get("/v2/health/live"), paths));
  EXPECT_TRUE(IsProbeRequest(get("/metrics?x=1"), paths));
  EXPECT_FALSE(IsProbeRequest(get("/v2/health/live/"), paths));
  EXPECT_FALSE(IsProbeRequest(get("/v2/models/m"), paths));
  EXPECT_FALSE(IsProbeRequest(get("/v2/health/live"), {}));
  auto post = get("/metrics");
  post.method(http::verb::post);
  EXPECT_FALSE(IsProbeRequest(post, paths));
  auto with_body = get("/metrics");
  with_body.set(http::field::content_length, "5");
  EXPECT_FALSE(IsProbeRequest(with_body, paths));
  with_body.set(http::field::content_length, "0");
  EXPECT_TRUE(IsProbeRequest(with_body, paths));
  auto chunked = get("/metrics");
  chunked.set(http::field::transfer_encoding, "chunked");
  EXPECT_FALSE(IsProbeRequest(chunked, paths));
}

}  // namespace
}  // namespace modelgate
