#include "frontend/http/http_route.h"

#include <gtest/gtest.h>

namespace modelgate {
namespace {

namespace http = boost::beast::http;

TEST(HttpRouteTest, V2RoutesNameTheirModelVersionAndMethod) {
  HttpRoute infer = HttpRoute::Parse("/v2/models/m/versions/3/infer?x=1");
  EXPECT_EQ(infer.kind, HttpRoute::kInfer);
  EXPECT_EQ(infer.method, http::verb::post);
  EXPECT_EQ(infer.model, "m");
  EXPECT_EQ(infer.version, "3");

  HttpRoute meta = HttpRoute::Parse("/v2/models/m");
  EXPECT_EQ(meta.kind, HttpRoute::kModelMetadata);
  EXPECT_EQ(meta.method, http::verb::get);
  EXPECT_EQ(meta.version, "");

  EXPECT_EQ(HttpRoute::Parse("/v2/models/m/ready").kind, HttpRoute::kModelReady);
  EXPECT_EQ(HttpRoute::Parse("/v2").kind, HttpRoute::kServerMetadata);
  EXPECT_EQ(HttpRoute::Parse("//v2//health/live").kind, HttpRoute::kLive);
  EXPECT_EQ(HttpRoute::Parse("/v2/health/ready").kind, HttpRoute::kReady);
}

TEST(HttpRouteTest, RepositoryRoutesNeedAdminAndProbesNeedNothing) {
  HttpRoute unload = HttpRoute::Parse("/v2/repository/models/m/unload");
  EXPECT_EQ(unload.kind, HttpRoute::kRepositoryUnload);
  EXPECT_EQ(unload.model, "m");
  EXPECT_EQ(unload.Scope(), AuthScope::kAdmin);
  EXPECT_EQ(HttpRoute::Parse("/v2/repository/index").Scope(), AuthScope::kAdmin);
  EXPECT_EQ(HttpRoute::Parse("/v2/models/m/infer").Scope(), AuthScope::kInfer);
  EXPECT_EQ(HttpRoute::Parse("/v2/health/live").Scope(), std::nullopt);
  EXPECT_EQ(HttpRoute::Parse("/nothing").Scope(), std::nullopt);
}

TEST(HttpRouteTest, V1StatusAndPredict) {
  HttpRoute predict = HttpRoute::Parse("/v1/models/m/versions/2:predict");
  EXPECT_EQ(predict.kind, HttpRoute::kV1Predict);
  EXPECT_EQ(predict.method, http::verb::post);
  EXPECT_EQ(predict.model, "m");
  EXPECT_EQ(predict.version, "2");
  HttpRoute status = HttpRoute::Parse("/v1/models/m");
  EXPECT_EQ(status.kind, HttpRoute::kV1Status);
  EXPECT_EQ(status.method, http::verb::get);
  EXPECT_EQ(HttpRoute::Parse("/v1/models/m:predict").model, "m");
}

TEST(HttpRouteTest, RootIsLivenessForKServeV1Clients) {
  for (const char* target : {"/", "", "/?probe=1"}) {
    const HttpRoute r = HttpRoute::Parse(target);
    EXPECT_EQ(r.kind, HttpRoute::kLive) << target;
    EXPECT_EQ(r.method, http::verb::get);
    EXPECT_FALSE(r.Scope().has_value());
  }
}

TEST(HttpRouteTest, TritonConfigAndStatisticsRoutes) {
  HttpRoute config = HttpRoute::Parse("/v2/models/m/versions/2/config");
  EXPECT_EQ(config.kind, HttpRoute::kModelConfig);
  EXPECT_EQ(config.method, http::verb::get);
  EXPECT_EQ(config.model, "m");
  EXPECT_EQ(config.version, "2");
  EXPECT_EQ(config.Scope(), AuthScope::kInfer);

  HttpRoute all = HttpRoute::Parse("/v2/models/stats");
  EXPECT_EQ(all.kind, HttpRoute::kModelStatistics);
  EXPECT_EQ(all.model, "");
  HttpRoute one = HttpRoute::Parse("/v2/models/m/stats");
  EXPECT_EQ(one.kind, HttpRoute::kModelStatistics);
  EXPECT_EQ(one.model, "m");
  EXPECT_EQ(one.version, "");
}

TEST(HttpRouteTest, UnsupportedTritonExtensionsNameWhatIsNotSupported) {
  EXPECT_EQ(HttpRoute::Parse("/v2/systemsharedmemory/status").unsupported, "system shared memory");
  EXPECT_EQ(HttpRoute::Parse("/v2/cudasharedmemory/region/r/register").unsupported,
            "CUDA shared memory");
  EXPECT_EQ(HttpRoute::Parse("/v2/trace/setting").unsupported, "trace settings");
  EXPECT_EQ(HttpRoute::Parse("/v2/models/m/versions/1/trace/setting").unsupported,
            "trace settings");
  EXPECT_EQ(HttpRoute::Parse("/v2/models/m/generate").unsupported, "the generate extension");
  EXPECT_EQ(HttpRoute::Parse("/v2/models/m/versions/1/generate_stream").unsupported,
            "the generate extension");
  EXPECT_EQ(HttpRoute::Parse("/v1/models/m:explain").unsupported, "explanations (V1 :explain)");
  EXPECT_EQ(HttpRoute::Parse("/v2/logging").kind, HttpRoute::kUnsupported);
  EXPECT_EQ(HttpRoute::Parse("/v2/logging").Scope(), std::nullopt);
}

TEST(HttpRouteTest, AnythingElseIsNotFound) {
  for (const char* target :
       {"/v3/models/m", "/v2/models/m/versions/1/explain", "/v2/repository/models/m/reload",
        "/v2/health", "/v1/models/m/extra"}) {
    EXPECT_EQ(HttpRoute::Parse(target).kind, HttpRoute::kNotFound) << target;
  }
}

}  // namespace
}  // namespace modelgate
