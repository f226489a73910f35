// GrpcFrontend against a mock InferenceService: a real in-process gRPC server
// on 127.0.0.1 (port 0) and a real client stub. The test thread plays the
// service's io thread: it answers through the captured InferCallback. Every
// client call carries a deadline, and every wait is bounded.
#include "frontend/grpc/grpc_frontend.h"

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <optional>

#include "observability/metrics.h"
#include "observability/request_id.h"
#include "support/mock_inference_service.h"
#include "support/simulated_time_source.h"

namespace modelgate {
namespace {

using ::testing::_;
using testing::MockInferenceService;
using testing::MockInferHandle;
using ::testing::NiceMock;
using ::testing::Return;

// Bounds every wait on the server (the loopback socket is real).
constexpr auto kWait = std::chrono::seconds(10);

inference::ModelInferRequest InferRequestFor(const std::string& model) {
  inference::ModelInferRequest req;
  req.set_model_name(model);
  auto* x = req.add_inputs();
  x->set_name("x");
  x->set_datatype("FP32");
  x->add_shape(1);
  x->add_shape(2);
  x->mutable_contents()->add_fp32_contents(1.0f);
  x->mutable_contents()->add_fp32_contents(2.0f);
  return req;
}

class FakeAuthenticator : public Authenticator {
 public:
  AuthResult Check(std::string_view authorization, AuthScope) const override {
    if (authorization.empty()) return AuthResult::kMissingToken;
    return authorization == "Bearer ok" ? AuthResult::kAllowed : AuthResult::kInvalidToken;
  }
};

class GrpcFrontendTest : public ::testing::Test {
 protected:
  GrpcFrontendTest() : config_(testing::TestModelConfig()) {
    ON_CALL(service_, Find(_, _, _)).WillByDefault(Return(StatusOr<ModelTarget>(NotFound("none"))));
    ON_CALL(service_, Find("m", _, _)).WillByDefault(Return(testing::TestTarget(config_)));
    ON_CALL(service_, ModelNames()).WillByDefault(Return(std::vector<std::string>{"m"}));
  }

  void StartServer(const Authenticator* auth = nullptr) {
    frontend_ = std::make_unique<GrpcFrontend>(service_, time_, &metrics_, false);
    frontend_->set_authenticator(auth);
    auto port = frontend_->Start("127.0.0.1", 0, 1 << 20);
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(*port),
                                       grpc::InsecureChannelCredentials());
    stub_ = inference::GRPCInferenceService::NewStub(channel);
  }
  void SetUp() override { StartServer(); }
  void TearDown() override {
    if (frontend_) frontend_->Shutdown(std::chrono::system_clock::now());
  }

  // Expects one Infer(target, ...) and captures it; `called` is set then.
  void ExpectInfer(std::shared_ptr<InferHandle> handle = nullptr) {
    EXPECT_CALL(service_, Infer(_, _, _))
        .WillOnce([this, handle](const ModelTarget&, InferRequest r, InferCallback done) {
          request_ = std::move(r);
          done_ = std::move(done);
          called_.set_value();
          return handle ? handle : std::make_shared<NiceMock<MockInferHandle>>();
        });
  }
  // Starts ModelInfer on another thread; returns its status.
  std::future<grpc::Status> Call(grpc::ClientContext* ctx, const inference::ModelInferRequest& req,
                                 inference::ModelInferResponse* resp) {
    ctx->set_deadline(std::chrono::system_clock::now() + kWait);
    return std::async(std::launch::async,
                      [this, ctx, req, resp] { return stub_->ModelInfer(ctx, req, resp); });
  }
  bool WaitCalled() { return called_.get_future().wait_for(kWait) == std::future_status::ready; }

  ModelConfig config_;
  NiceMock<MockInferenceService> service_;
  boost::asio::io_context io_;
  // Never advanced while a call runs: gRPC threads read it.
  testing::SimulatedTimeSource time_{io_};
  Metrics metrics_;
  std::unique_ptr<GrpcFrontend> frontend_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
  std::promise<void> called_;
  std::optional<InferRequest> request_;
  InferCallback done_;
};

TEST_F(GrpcFrontendTest, ServerLiveAndReadyFollowTheService) {
  EXPECT_CALL(service_, ServerReady()).WillRepeatedly(Return(true));
  grpc::ClientContext live_ctx, ready_ctx;
  live_ctx.set_deadline(std::chrono::system_clock::now() + kWait);
  ready_ctx.set_deadline(std::chrono::system_clock::now() + kWait);
  inference::ServerLiveResponse live;
  ASSERT_TRUE(stub_->ServerLive(&live_ctx, {}, &live).ok());
  EXPECT_TRUE(live.live());
  inference::ServerReadyResponse ready;
  ASSERT_TRUE(stub_->ServerReady(&ready_ctx, {}, &ready).ok());
  EXPECT_TRUE(ready.ready());
}

TEST_F(GrpcFrontendTest, ModelMetadataAndReadiness) {
  EXPECT_CALL(service_, ModelReady(_)).WillOnce(Return(false));
  grpc::ClientContext meta_ctx, ready_ctx;
  meta_ctx.set_deadline(std::chrono::system_clock::now() + kWait);
  ready_ctx.set_deadline(std::chrono::system_clock::now() + kWait);
  inference::ModelMetadataRequest meta_req;
  meta_req.set_name("m");
  inference::ModelMetadataResponse meta;
  ASSERT_TRUE(stub_->ModelMetadata(&meta_ctx, meta_req, &meta).ok());
  EXPECT_EQ(meta.name(), "m");
  ASSERT_EQ(meta.versions_size(), 2);
  EXPECT_EQ(meta.versions(1), "2");
  EXPECT_EQ(meta.platform(), "modelgate_python");
  ASSERT_EQ(meta.inputs_size(), 1);
  EXPECT_EQ(meta.inputs(0).datatype(), "FP32");

  inference::ModelReadyRequest ready_req;
  ready_req.set_name("m");
  inference::ModelReadyResponse ready;
  ASSERT_TRUE(stub_->ModelReady(&ready_ctx, ready_req, &ready).ok());
  EXPECT_FALSE(ready.ready());
}

TEST_F(GrpcFrontendTest, TheTimeoutParameterShortensTheDeadline) {
  ExpectInfer();
  grpc::ClientContext ctx;  // its own deadline is kWait away
  auto req = InferRequestFor("m");
  (*req.mutable_parameters())["timeout"].set_int64_param(50000);  // 50 ms
  inference::ModelInferResponse resp;
  auto status = Call(&ctx, req, &resp);
  ASSERT_TRUE(WaitCalled());
  ASSERT_TRUE(request_->deadline.has_value());
  // Counted on the simulated time source, which does not move by itself.
  EXPECT_EQ(*request_->deadline, time_.Now() + std::chrono::milliseconds(50));
  EXPECT_TRUE(request_->parameters.empty());  // the daemon's key, not the model's
  done_(Status(StatusCode::kDeadlineExceeded, "late"));
  ASSERT_EQ(status.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(status.get().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);

  for (auto set : {+[](inference::InferParameter& p) { p.set_int64_param(0); },
                   +[](inference::InferParameter& p) { p.set_string_param("5"); }}) {
    grpc::ClientContext bad_ctx;
    auto bad = InferRequestFor("m");
    set((*bad.mutable_parameters())["timeout"]);
    auto refused = Call(&bad_ctx, bad, &resp);
    ASSERT_EQ(refused.wait_for(kWait), std::future_status::ready);
    const grpc::Status s = refused.get();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(s.error_message().find("parameter 'timeout'"), std::string::npos)
        << s.error_message();
  }
}

TEST_F(GrpcFrontendTest, InferPassesIdAndDeadlineAndAnswersWithTrailingRequestId) {
  ExpectInfer();
  grpc::ClientContext ctx;
  ctx.AddMetadata("x-request-id", "client-id");
  inference::ModelInferResponse resp;
  auto status = Call(&ctx, InferRequestFor("m"), &resp);
  ASSERT_TRUE(WaitCalled());
  EXPECT_EQ(request_->id, "client-id");
  // The client's deadline (kWait from its send) counted on the time source.
  ASSERT_TRUE(request_->deadline.has_value());
  EXPECT_GT(*request_->deadline, time_.Now());
  // gRPC may round the grpc-timeout header up: a second of slack.
  EXPECT_LE(*request_->deadline, time_.Now() + kWait + std::chrono::seconds(1));
  ASSERT_EQ(request_->inputs.size(), 1u);
  EXPECT_EQ(request_->inputs[0].shape, (std::vector<int64_t>{1, 2}));

  InferResponse answer;
  answer.model = "m";
  answer.version = "2";
  answer.id = "client-id";
  Tensor y;
  y.name = "y";
  y.datatype = DataType::kFp32;
  y.shape = {1};
  const float value = 0.25f;
  y.raw.assign(reinterpret_cast<const char*>(&value), sizeof value);
  answer.outputs.push_back(std::move(y));
  done_(std::move(answer));

  ASSERT_EQ(status.wait_for(kWait), std::future_status::ready);
  const grpc::Status s = status.get();
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.model_version(), "2");
  ASSERT_EQ(resp.outputs_size(), 1);
  ASSERT_EQ(resp.outputs(0).contents().fp32_contents_size(), 1);
  EXPECT_EQ(resp.outputs(0).contents().fp32_contents(0), 0.25f);
  auto id = ctx.GetServerTrailingMetadata().find("x-request-id");
  ASSERT_NE(id, ctx.GetServerTrailingMetadata().end());
  EXPECT_EQ(std::string(id->second.data(), id->second.size()), "client-id");
}

struct CodeCase {
  Status status;
  grpc::StatusCode code;
};
void PrintTo(const CodeCase& c, std::ostream* os) { *os << c.status.ToString(); }

class GrpcFrontendCodeTest : public GrpcFrontendTest,
                             public ::testing::WithParamInterface<CodeCase> {};

TEST_P(GrpcFrontendCodeTest, ServiceErrorsMapToGrpcCodes) {
  ExpectInfer();
  grpc::ClientContext ctx;
  inference::ModelInferResponse resp;
  auto status = Call(&ctx, InferRequestFor("m"), &resp);
  ASSERT_TRUE(WaitCalled());
  done_(GetParam().status);
  ASSERT_EQ(status.wait_for(kWait), std::future_status::ready);
  const grpc::Status s = status.get();
  EXPECT_EQ(s.error_code(), GetParam().code);
  EXPECT_EQ(s.error_message(), GetParam().status.message());
  // Every answer, error or not, names the request.
  EXPECT_NE(ctx.GetServerTrailingMetadata().find("x-request-id"),
            ctx.GetServerTrailingMetadata().end());
}

INSTANTIATE_TEST_SUITE_P(
    Codes, GrpcFrontendCodeTest,
    ::testing::Values(
        CodeCase{Status(StatusCode::kResourceExhausted, "queue full").WithRetryAfter(1),
                 grpc::StatusCode::RESOURCE_EXHAUSTED},
        CodeCase{Unavailable("breaker open").WithRetryAfter(1), grpc::StatusCode::UNAVAILABLE},
        CodeCase{Status(StatusCode::kDeadlineExceeded, "too slow"),
                 grpc::StatusCode::DEADLINE_EXCEEDED},
        CodeCase{InvalidArgument("bad shape"), grpc::StatusCode::INVALID_ARGUMENT},
        CodeCase{Internal("model raised"), grpc::StatusCode::INTERNAL},
        CodeCase{NotFound("gone"), grpc::StatusCode::NOT_FOUND}));

TEST_F(GrpcFrontendTest, AnUnknownModelIsResolvedByTheServiceByName) {
  EXPECT_CALL(service_, Infer(_, _, _)).Times(0);
  EXPECT_CALL(service_, Infer(_, _)).WillOnce([this](InferRequest r, InferCallback done) {
    request_ = std::move(r);
    done_ = std::move(done);
    called_.set_value();
    return std::make_shared<NiceMock<MockInferHandle>>();
  });
  grpc::ClientContext ctx;
  inference::ModelInferResponse resp;
  auto status = Call(&ctx, InferRequestFor("nope"), &resp);
  ASSERT_TRUE(WaitCalled());
  EXPECT_EQ(request_->model, "nope");
  done_(NotFound("unknown model 'nope'"));
  ASSERT_EQ(status.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(status.get().error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(GrpcFrontendTest, ABadRequestIdIsInvalidArgumentAndNeverReachesTheService) {
  EXPECT_CALL(service_, Infer(_, _, _)).Times(0);
  EXPECT_CALL(service_, Infer(_, _)).Times(0);
  grpc::ClientContext ctx;
  ctx.AddMetadata("x-request-id", std::string(kMaxRequestIdBytes + 1, 'a'));
  inference::ModelInferResponse resp;
  auto status = Call(&ctx, InferRequestFor("m"), &resp);
  ASSERT_EQ(status.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(status.get().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(GrpcFrontendTest, AClientCancelWithdrawsTheRequest) {
  auto handle = std::make_shared<MockInferHandle>();
  std::promise<void> cancelled;
  EXPECT_CALL(*handle, Cancel()).WillOnce([&cancelled] { cancelled.set_value(); });
  ExpectInfer(handle);
  grpc::ClientContext ctx;
  inference::ModelInferResponse resp;
  auto status = Call(&ctx, InferRequestFor("m"), &resp);
  ASSERT_TRUE(WaitCalled());
  ctx.TryCancel();
  EXPECT_EQ(cancelled.get_future().wait_for(kWait), std::future_status::ready);
  // The service still answers once; the reactor then finishes.
  done_(Status(StatusCode::kCancelled, "cancelled"));
  ASSERT_EQ(status.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(status.get().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(GrpcFrontendTest, BearerTokensGuardInferButNotLiveness) {
  frontend_.reset();  // shuts the server without tokens down
  FakeAuthenticator auth;
  StartServer(&auth);
  EXPECT_CALL(service_, Infer(_, _, _)).Times(0);
  grpc::ClientContext ctx;
  inference::ModelInferResponse resp;
  auto status = Call(&ctx, InferRequestFor("m"), &resp);
  ASSERT_EQ(status.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(status.get().error_code(), grpc::StatusCode::UNAUTHENTICATED);

  grpc::ClientContext meta_ctx;
  meta_ctx.set_deadline(std::chrono::system_clock::now() + kWait);
  meta_ctx.AddMetadata("authorization", "Bearer ok");
  inference::ModelMetadataRequest meta_req;
  meta_req.set_name("m");
  inference::ModelMetadataResponse meta;
  EXPECT_TRUE(stub_->ModelMetadata(&meta_ctx, meta_req, &meta).ok());

  grpc::ClientContext live_ctx;
  live_ctx.set_deadline(std::chrono::system_clock::now() + kWait);
  inference::ServerLiveResponse live;
  EXPECT_TRUE(stub_->ServerLive(&live_ctx, {}, &live).ok());
}

}  // namespace
}  // namespace modelgate

namespace modelgate {
namespace {

TEST_F(GrpcFrontendTest, RepositoryLoadPassesTheConfigAndAnswersWithTheOutcome) {
  EXPECT_CALL(service_, LoadModel("m", std::optional<std::string>(R"({"workers": 2})"), _))
      .WillOnce([](const std::string&, std::optional<std::string>, RepositoryDone done) {
        done(Internal("model 'm' version 1 failed to load: boom"));
      });
  inference::RepositoryModelLoadRequest req;
  req.set_model_name("m");
  (*req.mutable_parameters())["config"].set_string_param(R"({"workers": 2})");
  inference::RepositoryModelLoadResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kWait);
  grpc::Status s = stub_->RepositoryModelLoad(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_NE(s.error_message().find("boom"), std::string::npos);

  EXPECT_CALL(service_, UnloadModel("m", _)).WillOnce([](const std::string&, RepositoryDone done) {
    done(Status::Ok());
  });
  inference::RepositoryModelUnloadRequest unload;
  unload.set_model_name("m");
  inference::RepositoryModelUnloadResponse unloaded;
  grpc::ClientContext ctx2;
  ctx2.set_deadline(std::chrono::system_clock::now() + kWait);
  EXPECT_TRUE(stub_->RepositoryModelUnload(&ctx2, unload, &unloaded).ok());
}

TEST_F(GrpcFrontendTest, RepositoryLoadRefusesUnknownOrMistypedParameters) {
  EXPECT_CALL(service_, LoadModel(_, _, _)).Times(0);
  for (int i = 0; i < 2; ++i) {
    inference::RepositoryModelLoadRequest req;
    req.set_model_name("m");
    if (i == 0) {
      (*req.mutable_parameters())["config"].set_int64_param(3);
    } else {
      (*req.mutable_parameters())["file:1/model.py"].set_bytes_param("x");
    }
    inference::RepositoryModelLoadResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + kWait);
    grpc::Status s = stub_->RepositoryModelLoad(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(s.error_message().find(i == 0 ? "must be a string" : "not supported"),
              std::string::npos)
        << s.error_message();
  }
}

TEST_F(GrpcFrontendTest, RepositoryIndexListsStatesAndFiltersReady) {
  EXPECT_CALL(service_, Index())
      .Times(2)
      .WillRepeatedly(
          Return(std::vector<ModelStatus>{{"m", 1, true, ModelState::kReady, "", "abc"},
                                          {"m", 2, false, ModelState::kLoading, "", "def"}}));
  for (bool ready_only : {false, true}) {
    inference::RepositoryIndexRequest req;
    req.set_ready(ready_only);
    inference::RepositoryIndexResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + kWait);
    ASSERT_TRUE(stub_->RepositoryIndex(&ctx, req, &resp).ok());
    ASSERT_EQ(resp.models_size(), ready_only ? 1 : 2);
    EXPECT_EQ(resp.models(0).state(), "READY");
    if (!ready_only) {
      EXPECT_EQ(resp.models(1).state(), "LOADING");
    }
  }
}

}  // namespace
}  // namespace modelgate
