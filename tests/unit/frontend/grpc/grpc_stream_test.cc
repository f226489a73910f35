// ModelStreamInfer and the other Triton extension RPCs of GrpcFrontend
// against a mock InferenceService: a real in-process gRPC server on
// 127.0.0.1 and a real client stub. The test thread answers the captured
// InferCallbacks in the order it chooses. Every wait is bounded.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "frontend/grpc/grpc_frontend.h"
#include "frontend/grpc/stream_infer.h"
#include "observability/metrics.h"
#include "support/mock_inference_service.h"
#include "support/simulated_time_source.h"

namespace modelgate {
namespace {

using ::testing::_;
using testing::MockInferenceService;
using testing::MockInferHandle;
using ::testing::NiceMock;
using ::testing::Return;

constexpr auto kWait = std::chrono::seconds(10);

inference::ModelInferRequest Request(const std::string& id, const std::string& datatype = "FP32") {
  inference::ModelInferRequest req;
  req.set_model_name("m");
  req.set_id(id);
  auto* x = req.add_inputs();
  x->set_name("x");
  x->set_datatype(datatype);
  x->add_shape(1);
  x->add_shape(2);
  x->mutable_contents()->add_fp32_contents(1.0f);
  x->mutable_contents()->add_fp32_contents(2.0f);
  return req;
}

InferResponse Answer(const InferRequest& r) {
  InferResponse out;
  out.model = "m";
  out.version = "2";
  out.id = r.id;
  return out;
}

class GrpcStreamTest : public ::testing::Test {
 protected:
  GrpcStreamTest() : config_(testing::TestModelConfig()) {
    ON_CALL(service_, Find(_, _, _)).WillByDefault(Return(StatusOr<ModelTarget>(NotFound("none"))));
    ON_CALL(service_, Find("m", _, _)).WillByDefault(Return(testing::TestTarget(config_)));
    ON_CALL(service_, Infer(_, _, _))
        .WillByDefault([this](const ModelTarget&, InferRequest r, InferCallback done) {
          auto handle = std::make_shared<NiceMock<MockInferHandle>>();
          ON_CALL(*handle, Cancel()).WillByDefault([this] {
            std::lock_guard<std::mutex> lock(mu_);
            ++cancels_;
            cv_.notify_all();
          });
          std::lock_guard<std::mutex> lock(mu_);
          calls_.push_back({std::move(r), std::move(done)});
          cv_.notify_all();
          return handle;
        });
  }
  void SetUp() override {
    frontend_ = std::make_unique<GrpcFrontend>(service_, time_, &metrics_, false);
    auto port = frontend_->Start("127.0.0.1", 0, 1 << 20);
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    stub_ = inference::GRPCInferenceService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(*port), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override { frontend_->Shutdown(std::chrono::system_clock::now()); }

  // Waits until the service holds `n` requests (answered or not).
  bool WaitCalls(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return calls_.size() >= n; });
  }
  // Answers call `i` on a thread of its own (the service's io thread).
  void AnswerCall(size_t i, StatusOr<InferResponse> r) {
    InferCallback done;
    {
      std::lock_guard<std::mutex> lock(mu_);
      done = calls_[i].done;
    }
    std::thread([done, r = std::move(r)]() mutable { done(std::move(r)); }).join();
  }
  InferRequest RequestOf(size_t i) {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_[i].request;
  }

  struct Call {
    InferRequest request;
    InferCallback done;
  };
  ModelConfig config_;
  NiceMock<MockInferenceService> service_;
  boost::asio::io_context io_;
  testing::SimulatedTimeSource time_{io_};
  Metrics metrics_;
  std::unique_ptr<GrpcFrontend> frontend_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Call> calls_;
  int cancels_ = 0;
};

TEST_F(GrpcStreamTest, AnswersCarryTheirIdsInCompletionOrderAndABadRequestKeepsTheStreamOpen) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kWait);
  auto stream = stub_->ModelStreamInfer(&ctx);
  ASSERT_TRUE(stream->Write(Request("a")));
  ASSERT_TRUE(stream->Write(Request("bad", "NOT_A_TYPE")));
  ASSERT_TRUE(stream->Write(Request("b")));
  ASSERT_TRUE(WaitCalls(2));
  inference::ModelStreamInferResponse r;
  // The bad request is answered at once, without reaching the service.
  ASSERT_TRUE(stream->Read(&r));
  EXPECT_EQ(r.infer_response().id(), "bad");
  EXPECT_NE(r.error_message().find("INVALID_ARGUMENT"), std::string::npos) << r.error_message();
  EXPECT_NE(r.error_message().find("NOT_A_TYPE"), std::string::npos) << r.error_message();
  // "b" finishes before "a".
  ASSERT_EQ(RequestOf(1).id, "b");
  AnswerCall(1, Answer(RequestOf(1)));
  ASSERT_TRUE(stream->Read(&r));
  EXPECT_EQ(r.error_message(), "");
  EXPECT_EQ(r.infer_response().id(), "b");
  AnswerCall(0, Status(StatusCode::kUnavailable, "breaker open"));
  ASSERT_TRUE(stream->Read(&r));
  EXPECT_EQ(r.infer_response().id(), "a");
  EXPECT_EQ(r.infer_response().model_name(), "m");
  EXPECT_NE(r.error_message().find("breaker open"), std::string::npos) << r.error_message();
  // Still open: one more request after the errors.
  ASSERT_TRUE(stream->Write(Request("c")));
  ASSERT_TRUE(WaitCalls(3));
  AnswerCall(2, Answer(RequestOf(2)));
  ASSERT_TRUE(stream->Read(&r));
  EXPECT_EQ(r.infer_response().id(), "c");
  ASSERT_TRUE(stream->WritesDone());
  EXPECT_FALSE(stream->Read(&r));
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(GrpcStreamTest, HalfCloseEndsTheCallOnlyAfterTheLastAnswer) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kWait);
  auto stream = stub_->ModelStreamInfer(&ctx);
  ASSERT_TRUE(stream->Write(Request("a")));
  ASSERT_TRUE(stream->WritesDone());
  ASSERT_TRUE(WaitCalls(1));
  AnswerCall(0, Answer(RequestOf(0)));
  inference::ModelStreamInferResponse r;
  ASSERT_TRUE(stream->Read(&r));
  EXPECT_EQ(r.infer_response().id(), "a");
  EXPECT_FALSE(stream->Read(&r));
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(GrpcStreamTest, CancellingTheStreamWithdrawsItsPendingRequests) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kWait);
  auto stream = stub_->ModelStreamInfer(&ctx);
  ASSERT_TRUE(stream->Write(Request("a")));
  ASSERT_TRUE(stream->Write(Request("b")));
  ASSERT_TRUE(WaitCalls(2));
  ctx.TryCancel();
  {
    std::unique_lock<std::mutex> lock(mu_);
    ASSERT_TRUE(cv_.wait_for(lock, kWait, [&] { return cancels_ == 2; }));
  }
  // The service still answers each once; the answers go nowhere.
  AnswerCall(0, Status(StatusCode::kCancelled, "cancelled"));
  AnswerCall(1, Status(StatusCode::kCancelled, "cancelled"));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(GrpcStreamTest, AtMostMaxInFlightRequestsOfAStreamReachTheService) {
  constexpr size_t kMax = StreamInferReactor::kMaxInFlight;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kWait);
  auto stream = stub_->ModelStreamInfer(&ctx);
  for (size_t i = 0; i < kMax + 3; ++i) ASSERT_TRUE(stream->Write(Request(std::to_string(i))));
  ASSERT_TRUE(WaitCalls(kMax));
  // Reading is paused: nothing more arrives while none is answered (a
  // failure would show as an extra call here; a pass cannot be spurious
  // the other way).
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_EQ(calls_.size(), kMax);
  }
  AnswerCall(0, Answer(RequestOf(0)));
  ASSERT_TRUE(WaitCalls(kMax + 1));
  inference::ModelStreamInferResponse r;
  ASSERT_TRUE(stream->Read(&r));
  EXPECT_EQ(r.infer_response().id(), "0");
  ctx.TryCancel();
  {
    // The server has seen the cancel once it withdrew the pending requests;
    // it reads nothing more after that.
    std::unique_lock<std::mutex> lock(mu_);
    ASSERT_TRUE(cv_.wait_for(lock, kWait, [&] { return cancels_ == static_cast<int>(kMax); }));
    ASSERT_EQ(calls_.size(), kMax + 1);
  }
  for (size_t i = 1; i < kMax + 1; ++i) AnswerCall(i, Status(StatusCode::kCancelled, "x"));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(GrpcStreamTest, AnswersTheClientDoesNotReadCountAgainstTheBound) {
  constexpr size_t kMax = StreamInferReactor::kMaxInFlight;
  constexpr size_t kTotal = kMax + 100;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kWait);
  auto stream = stub_->ModelStreamInfer(&ctx);
  for (size_t i = 0; i < kTotal; ++i) ASSERT_TRUE(stream->Write(Request(std::to_string(i))));
  // Every call is answered at once with 800 kB (under the test server's
  // 1 MiB message limit): 100 MB in all, far past what HTTP/2's flow-control
  // windows hold, and the client reads nothing. Unwritten answers count
  // against the bound, so the server stops reading requests; were they not
  // counted, every request would arrive and its answer pile up in memory.
  auto big = [this](size_t i) {
    InferResponse r = Answer(RequestOf(i));
    Tensor y;
    y.name = "y";
    y.datatype = DataType::kFp32;
    y.shape = {200000};
    y.raw.assign(800000, '\0');
    r.outputs.push_back(std::move(y));
    return r;
  };
  size_t answered = 0;
  for (int round = 0; round < 400; ++round) {
    size_t arrived = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      arrived = calls_.size();
    }
    if (arrived == answered) {
      // Quiet for 200 ms: reading has stopped.
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      std::lock_guard<std::mutex> lock(mu_);
      if (calls_.size() == answered) break;
      continue;
    }
    while (answered < arrived) {
      AnswerCall(answered, big(answered));
      ++answered;
    }
  }
  EXPECT_GE(answered, kMax);
  EXPECT_LT(answered, kTotal);
  // Reading answers frees the bound: more requests arrive.
  inference::ModelStreamInferResponse r;
  bool more = false;
  for (size_t i = 0; i < answered && !more; ++i) {
    ASSERT_TRUE(stream->Read(&r)) << stream->Finish().error_message();
    std::unique_lock<std::mutex> lock(mu_);
    more =
        cv_.wait_for(lock, std::chrono::milliseconds(50), [&] { return calls_.size() > answered; });
  }
  EXPECT_TRUE(more);
  ctx.TryCancel();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  size_t arrived = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    arrived = calls_.size();
  }
  for (size_t i = answered; i < arrived; ++i) AnswerCall(i, Status(StatusCode::kCancelled, "x"));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(GrpcStreamTest, ModelConfigAndStatisticsAnswerFromTheService) {
  grpc::ClientContext c1;
  inference::ModelConfigRequest creq;
  creq.set_name("m");
  inference::ModelConfigResponse cresp;
  ASSERT_TRUE(stub_->ModelConfig(&c1, creq, &cresp).ok());
  EXPECT_EQ(cresp.config().name(), "m");
  EXPECT_EQ(cresp.config().input(0).data_type(), inference::TYPE_FP32);

  grpc::ClientContext c2;
  creq.set_name("nope");
  EXPECT_EQ(stub_->ModelConfig(&c2, creq, &cresp).error_code(), grpc::StatusCode::NOT_FOUND);

  ModelVersionStats s;
  s.name = "m";
  s.version = 2;
  s.success = {3, 30};
  EXPECT_CALL(service_, Statistics("m", ""))
      .WillOnce(Return(StatusOr<std::vector<ModelVersionStats>>(std::vector{s})));
  EXPECT_CALL(service_, Statistics("x", ""))
      .WillOnce(Return(StatusOr<std::vector<ModelVersionStats>>(NotFound("unknown model 'x'"))));
  grpc::ClientContext c3;
  inference::ModelStatisticsRequest sreq;
  sreq.set_name("m");
  inference::ModelStatisticsResponse sresp;
  ASSERT_TRUE(stub_->ModelStatistics(&c3, sreq, &sresp).ok());
  ASSERT_EQ(sresp.model_stats_size(), 1);
  EXPECT_EQ(sresp.model_stats(0).inference_stats().success().count(), 3u);
  grpc::ClientContext c4;
  sreq.set_name("x");
  const grpc::Status bad = stub_->ModelStatistics(&c4, sreq, &sresp);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(bad.error_message().find("unknown model"), std::string::npos);
}

TEST_F(GrpcStreamTest, UnsupportedExtensionsSaySo) {
  grpc::ClientContext c1;
  inference::SystemSharedMemoryStatusResponse r1;
  const grpc::Status s1 = stub_->SystemSharedMemoryStatus(&c1, {}, &r1);
  EXPECT_EQ(s1.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_NE(s1.error_message().find("modelgate does not support system shared memory"),
            std::string::npos)
      << s1.error_message();
  grpc::ClientContext c2;
  inference::LogSettingsResponse r2;
  const grpc::Status s2 = stub_->LogSettings(&c2, {}, &r2);
  EXPECT_EQ(s2.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_NE(s2.error_message().find("log settings"), std::string::npos);
}

}  // namespace
}  // namespace modelgate
