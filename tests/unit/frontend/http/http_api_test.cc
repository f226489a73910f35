// HttpApi against a mock InferenceService: real Beast requests handed to the
// router in memory (the test thread plays the io thread), the service's
// answers delivered by the test through the captured InferCallback.
#include "frontend/http/http_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>

#include "frontend/http/content_coding.h"
#include "observability/metrics.h"
#include "observability/request_id.h"
#include "support/mock_inference_service.h"
#include "support/simulated_time_source.h"

namespace modelgate {
namespace {

namespace http = boost::beast::http;
using nlohmann::json;
using ::testing::_;
using testing::MockInferenceService;
using testing::MockInferHandle;
using ::testing::NiceMock;
using ::testing::Return;

constexpr char kInferBody[] =
    R"({"id":"body-id","inputs":[{"name":"x","datatype":"FP32","shape":[1,2],"data":[1,2]}]})";

HttpRequest Request(http::verb method, std::string target, std::string body = "") {
  HttpRequest req{method, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = std::move(body);
  }
  req.prepare_payload();
  return req;
}

Tensor Fp32(std::string name, std::vector<float> values) {
  Tensor t;
  t.name = std::move(name);
  t.datatype = DataType::kFp32;
  t.shape = {static_cast<int64_t>(values.size())};
  t.raw.resize(values.size() * sizeof(float));
  std::memcpy(t.raw.data(), values.data(), t.raw.size());
  return t;
}

// Grants exactly the scopes of the token it knows.
class FakeAuthenticator : public Authenticator {
 public:
  AuthResult Check(std::string_view authorization, AuthScope needed) const override {
    if (authorization.empty()) return AuthResult::kMissingToken;
    if (authorization == "Bearer admin") return AuthResult::kAllowed;
    if (authorization == "Bearer infer") {
      return needed == AuthScope::kInfer ? AuthResult::kAllowed : AuthResult::kInsufficientScope;
    }
    return AuthResult::kInvalidToken;
  }
};

class HttpApiTest : public ::testing::Test {
 protected:
  HttpApiTest() : config_(testing::TestModelConfig()), api_(service_, time_, &metrics_, false) {
    ON_CALL(service_, Find(_, _, _)).WillByDefault(Return(StatusOr<ModelTarget>(NotFound("none"))));
    ON_CALL(service_, Find("m", _, _)).WillByDefault(Return(testing::TestTarget(config_)));
    ON_CALL(service_, Index()).WillByDefault(Return(std::vector<ModelStatus>{}));
  }

  // Handles `req`; every answer lands in responses_.
  HttpCancel Handle(HttpRequest req) {
    return api_.Handle(std::move(req),
                       [this](HttpResponse res) { responses_.push_back(std::move(res)); });
  }
  // The one answer of a request answered at once.
  HttpResponse HandleNow(HttpRequest req) {
    responses_.clear();
    Handle(std::move(req));
    EXPECT_EQ(responses_.size(), 1u);
    return responses_.empty() ? HttpResponse{} : responses_.back();
  }
  // Sends kInferBody, captures what the service was given, answers nothing.
  HttpCancel StartInfer(std::shared_ptr<InferHandle> handle = nullptr) {
    EXPECT_CALL(service_, Infer(_, _, _))
        .WillOnce([this, handle](const ModelTarget& t, InferRequest r, InferCallback done) {
          target_version_ = t.version;
          request_ = std::move(r);
          done_ = std::move(done);
          return handle ? handle : std::make_shared<NiceMock<MockInferHandle>>();
        });
    return Handle(Request(http::verb::post, "/v2/models/m/infer", kInferBody));
  }

  ModelConfig config_;
  NiceMock<MockInferenceService> service_;
  boost::asio::io_context io_;
  testing::SimulatedTimeSource time_{io_};
  Metrics metrics_;
  HttpApi api_;
  std::vector<HttpResponse> responses_;
  std::optional<int64_t> target_version_;
  std::optional<InferRequest> request_;
  InferCallback done_;
};

TEST_F(HttpApiTest, LivenessAnswersWithoutTheServiceAndCarriesARequestId) {
  EXPECT_CALL(service_, ServerReady()).Times(0);
  HttpResponse res = HandleNow(Request(http::verb::get, "/v2/health/live"));
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(json::parse(res.body()), json({{"live", true}}));
  EXPECT_FALSE(std::string(res["x-request-id"]).empty());
}

TEST_F(HttpApiTest, ReadinessFollowsTheService) {
  EXPECT_CALL(service_, ServerReady()).WillOnce(Return(false)).WillOnce(Return(true));
  HttpResponse not_ready = HandleNow(Request(http::verb::get, "/v2/health/ready"));
  EXPECT_EQ(not_ready.result_int(), 503);
  EXPECT_EQ(json::parse(not_ready.body())["ready"], false);
  EXPECT_EQ(HandleNow(Request(http::verb::get, "/v2/health/ready")).result_int(), 200);
}

TEST_F(HttpApiTest, UnknownRouteIs404AndWrongMethodIs405WithAllow) {
  HttpResponse missing = HandleNow(Request(http::verb::get, "/v3/nothing"));
  EXPECT_EQ(missing.result_int(), 404);
  EXPECT_NE(json::parse(missing.body())["error"].get<std::string>().find("/v3/nothing"),
            std::string::npos);
  HttpResponse wrong = HandleNow(Request(http::verb::get, "/v2/models/m/infer"));
  EXPECT_EQ(wrong.result_int(), 405);
  EXPECT_EQ(wrong[http::field::allow], "POST");
}

TEST_F(HttpApiTest, ModelMetadataComesFromTheTargetConfig) {
  EXPECT_CALL(service_, Find("m", "1", _));
  HttpResponse res = HandleNow(Request(http::verb::get, "/v2/models/m/versions/1"));
  ASSERT_EQ(res.result_int(), 200);
  json body = json::parse(res.body());
  EXPECT_EQ(body["name"], "m");
  EXPECT_EQ(body["versions"], json({"1", "2"}));
  EXPECT_EQ(body["platform"], "modelgate_python");
  EXPECT_EQ(body["inputs"][0], json({{"name", "x"}, {"datatype", "FP32"}, {"shape", {-1, 2}}}));
}

TEST_F(HttpApiTest, FindErrorsMapToTheirStatuses) {
  EXPECT_EQ(HandleNow(Request(http::verb::get, "/v2/models/other")).result_int(), 404);
  EXPECT_CALL(service_, Find("m", "x", _))
      .WillOnce(Return(StatusOr<ModelTarget>(InvalidArgument("not a number"))));
  EXPECT_EQ(HandleNow(Request(http::verb::get, "/v2/models/m/versions/x/ready")).result_int(), 400);
}

TEST_F(HttpApiTest, ModelNotReadyIs503WithTheReasonButV1StatusIs200) {
  EXPECT_CALL(service_, ModelReady(_)).WillRepeatedly(Return(false));
  EXPECT_CALL(service_, NotReadyReason(_)).WillRepeatedly(Return("load failed: boom"));
  HttpResponse v2 = HandleNow(Request(http::verb::get, "/v2/models/m/ready"));
  EXPECT_EQ(v2.result_int(), 503);
  EXPECT_EQ(
      json::parse(v2.body()),
      json({{"name", "m"}, {"ready", false}, {"version", "2"}, {"reason", "load failed: boom"}}));
  HttpResponse v1 = HandleNow(Request(http::verb::get, "/v1/models/m"));
  EXPECT_EQ(v1.result_int(), 200);
  EXPECT_EQ(json::parse(v1.body())["ready"], false);
}

TEST_F(HttpApiTest, RepositoryIndexLoadAndUnload) {
  EXPECT_CALL(service_, Index())
      .WillOnce(
          Return(std::vector<ModelStatus>{{"m", 1, true, ModelState::kReady, "", "abc"},
                                          {"n", 3, false, ModelState::kUnavailable, "crashed", ""},
                                          {"n", 4, false, ModelState::kDraining, "", "def"}}));
  HttpResponse index = HandleNow(Request(http::verb::post, "/v2/repository/index"));
  ASSERT_EQ(index.result_int(), 200);
  EXPECT_EQ(json::parse(index.body()),
            json::parse(R"([{"name":"m","version":"1","state":"READY","fingerprint":"abc"},
                           {"name":"n","version":"3","state":"UNAVAILABLE","reason":"crashed"},
                           {"name":"n","version":"4","state":"DRAINING","fingerprint":"def"}])"));

  EXPECT_CALL(service_, UnloadModel("m", _)).WillOnce([](const std::string&, RepositoryDone done) {
    done(Status::Ok());
  });
  EXPECT_EQ(HandleNow(Request(http::verb::post, "/v2/repository/models/m/unload")).result_int(),
            200);
  EXPECT_CALL(service_, LoadModel("zz", std::optional<std::string>(), _))
      .WillOnce([](const std::string&, std::optional<std::string>, RepositoryDone done) {
        done(NotFound("unknown model 'zz'"));
      });
  EXPECT_EQ(HandleNow(Request(http::verb::post, "/v2/repository/models/zz/load")).result_int(),
            404);
}

TEST_F(HttpApiTest, ALoadAnswersOnlyWhenTheServiceHasDecided) {
  RepositoryDone pending;
  EXPECT_CALL(service_, LoadModel("m", std::optional<std::string>(R"({"workers": 2})"), _))
      .WillOnce([&](const std::string&, std::optional<std::string>, RepositoryDone done) {
        pending = std::move(done);
      });
  Handle(Request(http::verb::post, "/v2/repository/models/m/load",
                 R"({"parameters": {"config": "{\"workers\": 2}"}})"));
  EXPECT_TRUE(responses_.empty());
  ASSERT_TRUE(pending);
  pending(Internal("model 'm' version 2 failed to load: boom"));
  ASSERT_EQ(responses_.size(), 1u);
  EXPECT_EQ(responses_[0].result_int(), 500);
  EXPECT_NE(responses_[0].body().find("boom"), std::string::npos);
}

TEST_F(HttpApiTest, ABadLoadBodyIsRefusedNamingWhatIsWrong) {
  EXPECT_CALL(service_, LoadModel(_, _, _)).Times(0);
  for (
      const auto& [body, expected] : std::vector<std::pair<std::string, std::string>>{
          {"{not json", "malformed JSON"},
          {R"({"parameters": {"config": 3}})", "must be a string"},
          {R"({"parameters": {"file:1/model.py": "x"}})", "not supported"},
          {R"({"params": {}})", "unknown key 'params'"},
          {R"({"parameters": {"config": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}})",
           "nested deeper"}}) {
    HttpResponse res = HandleNow(Request(http::verb::post, "/v2/repository/models/m/load", body));
    EXPECT_EQ(res.result_int(), 400) << body;
    EXPECT_NE(res.body().find(expected), std::string::npos) << res.body();
  }
}

TEST_F(HttpApiTest, ATimeoutParameterIsADeadlineCountedFromTheTimeSource) {
  EXPECT_CALL(service_, Infer(_, _, _))
      .WillOnce([this](const ModelTarget&, InferRequest r, InferCallback done) {
        request_ = std::move(r);
        done_ = std::move(done);
        return std::make_shared<NiceMock<MockInferHandle>>();
      });
  time_.Advance(std::chrono::hours(1));  // any time: the deadline follows it
  Handle(Request(http::verb::post, "/v2/models/m/infer",
                 R"({"parameters":{"timeout":1500000},"inputs":[{"name":"x","datatype":"FP32",)"
                 R"("shape":[1,2],"data":[1,2]}]})"));
  ASSERT_TRUE(request_.has_value());
  ASSERT_TRUE(request_->deadline.has_value());
  EXPECT_EQ(*request_->deadline, time_.Now() + std::chrono::microseconds(1500000));
}

TEST_F(HttpApiTest, InferHandsTheParsedRequestToTheServiceAndAnswersOnlyWhenItAnswers) {
  HttpRequest req = Request(http::verb::post, "/v2/models/m/versions/2/infer", kInferBody);
  EXPECT_CALL(service_, Find("m", "2", _));
  EXPECT_CALL(service_, Infer(_, _, _))
      .WillOnce([this](const ModelTarget& t, InferRequest r, InferCallback done) {
        target_version_ = t.version;
        request_ = std::move(r);
        done_ = std::move(done);
        return std::make_shared<NiceMock<MockInferHandle>>();
      });
  Handle(std::move(req));
  ASSERT_TRUE(request_.has_value());
  EXPECT_TRUE(responses_.empty());  // nothing until the service answers
  EXPECT_EQ(target_version_, 2);
  EXPECT_EQ(request_->model, "m");
  EXPECT_EQ(request_->version, "2");
  EXPECT_EQ(request_->id, "body-id");
  ASSERT_EQ(request_->inputs.size(), 1u);
  EXPECT_EQ(request_->inputs[0].name, "x");
  EXPECT_EQ(request_->inputs[0].shape, (std::vector<int64_t>{1, 2}));

  InferResponse answer;
  answer.model = "m";
  answer.version = "2";
  answer.id = "body-id";
  answer.outputs.push_back(Fp32("y", {0.5f}));
  done_(std::move(answer));
  ASSERT_EQ(responses_.size(), 1u);
  const HttpResponse& res = responses_[0];
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res["x-request-id"], "body-id");  // header, body and log agree
  json body = json::parse(res.body());
  EXPECT_EQ(body["id"], "body-id");
  EXPECT_EQ(body["model_name"], "m");
  EXPECT_EQ(body["outputs"][0]["name"], "y");
  EXPECT_EQ(body["outputs"][0]["data"], json({0.5}));
}

TEST_F(HttpApiTest, TheHeaderRequestIdIsUsedWhenTheBodyHasNone) {
  HttpRequest req =
      Request(http::verb::post, "/v2/models/m/infer",
              R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1,2],"data":[1,2]}]})");
  req.set("x-request-id", "from-header");
  EXPECT_CALL(service_, Infer(_, _, _))
      .WillOnce([this](const ModelTarget&, InferRequest r, InferCallback done) {
        request_ = std::move(r);
        done_ = std::move(done);
        return std::make_shared<NiceMock<MockInferHandle>>();
      });
  Handle(std::move(req));
  ASSERT_TRUE(request_.has_value());
  EXPECT_EQ(request_->id, "from-header");
  done_(Status(StatusCode::kInternal, "model raised"));
  ASSERT_EQ(responses_.size(), 1u);
  EXPECT_EQ(responses_[0]["x-request-id"], "from-header");
}

TEST_F(HttpApiTest, AnInvalidRequestIdHeaderIs400AndNeverReachesTheService) {
  EXPECT_CALL(service_, Infer(_, _, _)).Times(0);
  HttpRequest req = Request(http::verb::post, "/v2/models/m/infer", kInferBody);
  req.set("x-request-id", std::string(kMaxRequestIdBytes + 1, 'a'));
  HttpResponse res = HandleNow(std::move(req));
  EXPECT_EQ(res.result_int(), 400);
  EXPECT_NE(std::string(res["x-request-id"]), std::string(kMaxRequestIdBytes + 1, 'a'));
}

TEST_F(HttpApiTest, ABodyThatDoesNotParseIs400AndNeverReachesTheService) {
  EXPECT_CALL(service_, Infer(_, _, _)).Times(0);
  HttpResponse res = HandleNow(Request(http::verb::post, "/v2/models/m/infer", "{not json"));
  EXPECT_EQ(res.result_int(), 400);
  EXPECT_TRUE(json::parse(res.body()).contains("error"));
}

struct ErrorCase {
  Status status;
  unsigned http_status;
  std::optional<std::string> retry_after;
};
void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.status.ToString(); }

class HttpApiErrorTest : public HttpApiTest, public ::testing::WithParamInterface<ErrorCase> {};

TEST_P(HttpApiErrorTest, ServiceErrorsMapToHttpStatusesWithRetryAfter) {
  StartInfer();
  ASSERT_TRUE(done_);
  done_(GetParam().status);
  ASSERT_EQ(responses_.size(), 1u);
  const HttpResponse& res = responses_[0];
  EXPECT_EQ(res.result_int(), GetParam().http_status);
  EXPECT_EQ(json::parse(res.body())["error"], GetParam().status.message());
  if (GetParam().retry_after) {
    EXPECT_EQ(res[http::field::retry_after], *GetParam().retry_after);
  } else {
    EXPECT_EQ(res.count(http::field::retry_after), 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Statuses, HttpApiErrorTest,
    ::testing::Values(
        ErrorCase{Status(StatusCode::kResourceExhausted, "queue full").WithRetryAfter(1), 429, "1"},
        ErrorCase{Unavailable("breaker open").WithRetryAfter(7), 503, "7"},
        ErrorCase{Unavailable("worker died"), 503, std::nullopt},
        ErrorCase{Status(StatusCode::kDeadlineExceeded, "too slow"), 504, std::nullopt},
        ErrorCase{InvalidArgument("bad shape"), 400, std::nullopt},
        ErrorCase{Internal("model raised"), 500, std::nullopt},
        ErrorCase{NotFound("gone"), 404, std::nullopt}));

TEST_F(HttpApiTest, AWithdrawnRequestCancelsItsHandleOnceAndIsAnsweredOnce) {
  auto handle = std::make_shared<MockInferHandle>();
  EXPECT_CALL(*handle, Cancel()).Times(1);
  HttpCancel cancel = StartInfer(handle);
  ASSERT_TRUE(cancel);
  cancel();
  EXPECT_TRUE(responses_.empty());  // the service still owes the answer
  done_(Status(StatusCode::kCancelled, "cancelled"));
  EXPECT_EQ(responses_.size(), 1u);
}

TEST_F(HttpApiTest, ARequestTheServiceNeverAnswersIsNeverAnswered) {
  StartInfer();
  ASSERT_TRUE(done_);
  done_ = nullptr;  // the service drops it (e.g. it is destroyed)
  EXPECT_TRUE(responses_.empty());
}

TEST_F(HttpApiTest, BearerTokensGuardInferAndTheRepositoryButNotHealth) {
  FakeAuthenticator auth;
  api_.set_authenticator(&auth);
  EXPECT_CALL(service_, Infer(_, _, _)).Times(0);
  EXPECT_CALL(service_, LoadModel(_, _, _)).Times(0);
  EXPECT_CALL(service_, UnloadModel(_, _)).Times(0);

  HttpResponse missing = HandleNow(Request(http::verb::post, "/v2/models/m/infer", kInferBody));
  EXPECT_EQ(missing.result_int(), 401);
  EXPECT_EQ(missing[http::field::www_authenticate], "Bearer realm=\"modelgate\"");

  HttpRequest bad = Request(http::verb::post, "/v2/models/m/infer", kInferBody);
  bad.set(http::field::authorization, "Bearer nope");
  EXPECT_EQ(HandleNow(std::move(bad)).result_int(), 401);

  HttpRequest unload = Request(http::verb::post, "/v2/repository/models/m/unload");
  unload.set(http::field::authorization, "Bearer infer");
  HttpResponse denied = HandleNow(std::move(unload));
  EXPECT_EQ(denied.result_int(), 403);
  EXPECT_NE(std::string(denied[http::field::www_authenticate]).find("scope=\"admin\""),
            std::string::npos);

  EXPECT_EQ(HandleNow(Request(http::verb::get, "/v2/health/live")).result_int(), 200);
}

TEST_F(HttpApiTest, InferForAnUnknownModelCountsUnderUnknown) {
  HttpResponse res = HandleNow(Request(http::verb::post, "/v2/models/nope/infer", kInferBody));
  EXPECT_EQ(res.result_int(), 404);
  const std::string text = metrics_.Serialize({});
  EXPECT_NE(text.find("code=\"NOT_FOUND\",model=\"_unknown\",protocol=\"http\",version=\"\"} 1"),
            std::string::npos)
      << text;
}

// Triton's binary tensor data extension end to end through the router: the
// request header splits the body, the response carries Triton's headers.
TEST_F(HttpApiTest, BinaryTensorDataInAndOutCarriesTritonsHeaders) {
  const std::string head =
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1,2],)"
      R"("parameters":{"binary_data_size":8}}],"outputs":[{"name":"y","parameters":{"binary_data":true}}]})";
  const float values[] = {1.5f, -0.0f};
  std::string data(sizeof(values), '\0');
  std::memcpy(data.data(), values, sizeof(values));
  HttpRequest req = Request(http::verb::post, "/v2/models/m/infer", head + data);
  req.set(http::field::content_type, "application/octet-stream");
  req.set("Inference-Header-Content-Length", std::to_string(head.size()));
  EXPECT_CALL(service_, Infer(_, _, _))
      .WillOnce([this](const ModelTarget&, InferRequest r, InferCallback done) {
        request_ = std::move(r);
        done_ = std::move(done);
        return std::make_shared<NiceMock<MockInferHandle>>();
      });
  Handle(std::move(req));
  ASSERT_TRUE(request_.has_value());
  ASSERT_EQ(request_->inputs.size(), 1u);
  EXPECT_EQ(request_->inputs[0].raw, data);
  EXPECT_EQ(request_->requested_outputs, std::vector<std::string>{"y"});

  InferResponse answer;
  answer.model = "m";
  answer.version = "2";
  answer.outputs.push_back(Fp32("y", {0.25f, 3.0f}));
  const std::string y = answer.outputs[0].raw;
  done_(std::move(answer));
  ASSERT_EQ(responses_.size(), 1u);
  const HttpResponse& res = responses_[0];
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res[http::field::content_type], "application/octet-stream");
  const size_t json_bytes = std::stoul(std::string(res["Inference-Header-Content-Length"]));
  ASSERT_EQ(json_bytes + y.size(), res.body().size());
  json body = json::parse(res.body().substr(0, json_bytes));
  EXPECT_EQ(body["outputs"][0]["parameters"]["binary_data_size"], 8);
  EXPECT_FALSE(body["outputs"][0].contains("data"));
  EXPECT_EQ(res.body().substr(json_bytes), y);
}

TEST_F(HttpApiTest, AJsonAnswerHasNoInferenceHeaderAndStaysJson) {
  StartInfer();
  InferResponse answer;
  answer.model = "m";
  answer.outputs.push_back(Fp32("y", {0.5f}));
  done_(std::move(answer));
  ASSERT_EQ(responses_.size(), 1u);
  EXPECT_EQ(responses_[0][http::field::content_type], "application/json");
  EXPECT_EQ(responses_[0].count("Inference-Header-Content-Length"), 0u);
}

TEST_F(HttpApiTest, ABadInferenceHeaderIs400AndNeverReachesTheService) {
  EXPECT_CALL(service_, Infer(_, _, _)).Times(0);
  struct Case {
    std::vector<std::string> values;
    std::string target;
    std::string fragment;
  } cases[] = {
      {{"12x"}, "/v2/models/m/infer", "is not a byte count"},
      {{"100000"}, "/v2/models/m/infer", "but the body has only"},
      {{"3", "3"}, "/v2/models/m/infer", "is given more than once"},
      {{"3"}, "/v1/models/m:predict", "only supported by the V2 infer endpoint"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.fragment);
    HttpRequest req = Request(http::verb::post, c.target, kInferBody);
    for (const auto& v : c.values) req.insert("Inference-Header-Content-Length", v);
    HttpResponse res = HandleNow(std::move(req));
    EXPECT_EQ(res.result_int(), 400);
    EXPECT_NE(json::parse(res.body())["error"].get<std::string>().find(c.fragment),
              std::string::npos)
        << res.body();
  }
}

TEST_F(HttpApiTest, ServerMetadataListsBinaryTensorData) {
  json body = json::parse(HandleNow(Request(http::verb::get, "/v2")).body());
  EXPECT_EQ(body["extensions"],
            json({"model_repository", "binary_tensor_data", "model_configuration", "statistics",
                  "parameters"}));
}

TEST_F(HttpApiTest, AGzipBodyIsInflatedAndTheAnswerCompressedForAcceptEncoding) {
  HttpRequest req = Request(http::verb::post, "/v2/models/m/infer",
                            CompressBody(kInferBody, ContentCoding::kGzip).value());
  req.set(http::field::content_encoding, "gzip");
  req.set(http::field::accept_encoding, "br;q=1, deflate;q=0.5, gzip;q=0.1");
  EXPECT_CALL(service_, Infer(_, _, _))
      .WillOnce([this](const ModelTarget&, InferRequest r, InferCallback done) {
        request_ = std::move(r);
        done_ = std::move(done);
        return std::make_shared<NiceMock<MockInferHandle>>();
      });
  Handle(std::move(req));
  ASSERT_TRUE(request_.has_value());
  EXPECT_EQ(request_->id, "body-id");
  ASSERT_EQ(request_->inputs.size(), 1u);
  InferResponse answer;
  answer.model = "m";
  answer.id = "body-id";
  answer.outputs.push_back(Fp32("y", std::vector<float>(500, 0.25f)));  // over 1 KiB as JSON
  done_(std::move(answer));
  ASSERT_EQ(responses_.size(), 1u);
  const HttpResponse& res = responses_[0];
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res[http::field::content_encoding], "deflate");
  EXPECT_EQ(res[http::field::vary], "Accept-Encoding");
  EXPECT_EQ(res["x-request-id"], "body-id");
  auto plain = InflateBody(res.body(), ContentCoding::kDeflate, 1 << 20);
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_EQ(json::parse(*plain)["outputs"][0]["data"].size(), 500u);
}

TEST_F(HttpApiTest, ABodyInflatingPastTheLimitIs413AndNeverReachesTheService) {
  api_.set_max_body_bytes(1000);
  EXPECT_CALL(service_, Infer(_, _, _)).Times(0);
  for (const char* target : {"/v2/models/m/infer", "/v1/models/m:predict"}) {
    HttpRequest req =
        Request(http::verb::post, target,
                CompressBody(std::string(1001, ' '), ContentCoding::kDeflate).value());
    req.set(http::field::content_encoding, "deflate");
    HttpResponse res = HandleNow(std::move(req));
    EXPECT_EQ(res.result_int(), 413) << target;
    EXPECT_NE(res.body().find("limit of 1000 bytes"), std::string::npos) << res.body();
  }
}

TEST_F(HttpApiTest, SmallAnswersStayPlainAndVaryJoinsCors) {
  api_.set_cors(CorsPolicy({"https://app.example"}));
  HttpRequest req = Request(http::verb::get, "/");
  req.set(http::field::accept_encoding, "gzip");
  req.set(http::field::origin, "https://app.example");
  HttpResponse res = HandleNow(std::move(req));
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(json::parse(res.body()), json({{"live", true}}));
  EXPECT_EQ(res.count(http::field::content_encoding), 0u);
  EXPECT_EQ(res[http::field::vary], "Origin, Accept-Encoding");
}

TEST_F(HttpApiTest, AColumnarV1RequestIsAnsweredColumnar) {
  EXPECT_CALL(service_, Infer(_, _, _))
      .WillOnce([this](const ModelTarget&, InferRequest r, InferCallback done) {
        request_ = std::move(r);
        done_ = std::move(done);
        return std::make_shared<NiceMock<MockInferHandle>>();
      });
  Handle(Request(http::verb::post, "/v1/models/m:predict", R"({"inputs": [[1, 2]]})"));
  ASSERT_TRUE(request_.has_value());
  ASSERT_EQ(request_->inputs.size(), 1u);
  EXPECT_EQ(request_->inputs[0].shape, (std::vector<int64_t>{1, 2}));
  InferResponse answer;
  answer.model = "m";
  answer.outputs.push_back(Fp32("y", {0.5f, 1.5f}));
  done_(std::move(answer));
  ASSERT_EQ(responses_.size(), 1u);
  EXPECT_EQ(json::parse(responses_[0].body()), json::parse(R"({"outputs": [0.5, 1.5]})"));
}

}  // namespace
}  // namespace modelgate
