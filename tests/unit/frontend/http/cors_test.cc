#include "frontend/http/cors.h"

#include <gtest/gtest.h>

namespace modelgate {
namespace {

namespace http = boost::beast::http;

HttpRequest Options(std::string_view origin) {
  HttpRequest req{http::verb::options, "/v2/models/m/infer", 11};
  if (!origin.empty()) req.set(http::field::origin, std::string(origin));
  req.set(http::field::access_control_request_method, "POST");
  return req;
}

TEST(CorsPolicyTest, AllowedOriginIsEchoedWithVaryAndExposedHeaders) {
  CorsPolicy cors({"https://app.example.com", "http://localhost:3000"});
  HttpResponse res{http::status::ok, 11};
  cors.Decorate("https://app.example.com", res);
  EXPECT_EQ(res[http::field::access_control_allow_origin], "https://app.example.com");
  EXPECT_EQ(res[http::field::vary], "Origin");
  EXPECT_NE(res[http::field::access_control_expose_headers].find("x-request-id"),
            std::string::npos);
}

TEST(CorsPolicyTest, OtherOriginsGetNoCorsHeaders) {
  CorsPolicy cors({"https://app.example.com"});
  for (std::string_view origin : {"https://evil.example.com", "https://app.example.com.evil",
                                  "http://app.example.com", "null", ""}) {
    HttpResponse res{http::status::ok, 11};
    cors.Decorate(origin, res);
    EXPECT_EQ(res.count(http::field::access_control_allow_origin), 0u) << origin;
    EXPECT_EQ(res.count(http::field::access_control_expose_headers), 0u) << origin;
  }
  // Disabled: nothing at all.
  HttpResponse res{http::status::ok, 11};
  CorsPolicy().Decorate("https://app.example.com", res);
  EXPECT_EQ(res.count(http::field::vary), 0u);
  EXPECT_EQ(res.count(http::field::access_control_allow_origin), 0u);
}

TEST(CorsPolicyTest, WildcardAllowsAnyOriginButNull) {
  CorsPolicy cors({"*"});
  EXPECT_TRUE(cors.Allows("https://anything.example"));
  EXPECT_TRUE(cors.Allows("app://electron"));
  EXPECT_FALSE(cors.Allows("null"));
  EXPECT_FALSE(cors.Allows(""));
  EXPECT_FALSE(cors.Allows("https://a b"));
  EXPECT_FALSE(cors.Allows(std::string(CorsPolicy::kMaxOriginBytes + 1, 'a')));
}

TEST(CorsPolicyTest, PreflightIs204WithMethodsHeadersAndMaxAge) {
  CorsPolicy cors({"https://app.example.com"});
  HttpResponse ok = cors.Preflight(Options("https://app.example.com"));
  EXPECT_EQ(ok.result(), http::status::no_content);
  EXPECT_EQ(ok[http::field::access_control_allow_origin], "https://app.example.com");
  EXPECT_EQ(ok[http::field::access_control_allow_methods], "GET, POST, OPTIONS");
  for (std::string_view h : {"Authorization", "Content-Type", "Content-Encoding", "x-request-id",
                             "Inference-Header-Content-Length"}) {
    EXPECT_NE(std::string(ok[http::field::access_control_allow_headers]).find(h), std::string::npos)
        << h;
  }
  EXPECT_EQ(ok[http::field::access_control_max_age], "600");

  HttpResponse other = cors.Preflight(Options("https://evil.example.com"));
  EXPECT_EQ(other.result(), http::status::no_content);
  EXPECT_EQ(other[http::field::allow], "GET, POST, OPTIONS");
  EXPECT_EQ(other.count(http::field::access_control_allow_origin), 0u);
  EXPECT_EQ(other.count(http::field::access_control_allow_methods), 0u);
}

TEST(CorsPolicyTest, OriginValidationNamesTheRule) {
  for (std::string_view good :
       {"*", "https://app.example.com", "http://localhost:3000", "http://[::1]:8080"}) {
    EXPECT_TRUE(ValidateCorsOrigin(good).ok()) << good;
  }
  for (std::string_view bad : {"app.example.com", "https://app.example.com/", "ftp://x", "https://",
                               "https://a/b", "null"}) {
    Status s = ValidateCorsOrigin(bad);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("--cors-allow-origin '" + std::string(bad) + "'"), std::string::npos)
        << s.message();
  }
  EXPECT_NE(ValidateCorsOrigin("https://app.example.com/").message().find("trailing slash"),
            std::string::npos);
}

}  // namespace
}  // namespace modelgate
