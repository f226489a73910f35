// A C++ gRPC client, built from the project's proto, against the real daemon
// serving the example models with real R and Python workers.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstring>
#include <sstream>

#include "grpc_predict_v2.grpc.pb.h"
#include "health.grpc.pb.h"
#include "support/daemon_process.h"
#include "support/test_env.h"

namespace modelgate::testing {
namespace {

using namespace inference;

class DaemonGrpcTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    daemon_ = new DaemonProcess(SourceDir() + "/examples/models");
    ASSERT_TRUE(daemon_->WaitReady()) << daemon_->log();
    channel_ = grpc::CreateChannel(daemon_->grpc_target(), grpc::InsecureChannelCredentials());
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(daemon_->Stop(), 0);
    delete daemon_;
    channel_.reset();
  }
  std::unique_ptr<GRPCInferenceService::Stub> stub_ = GRPCInferenceService::NewStub(channel_);

  static DaemonProcess* daemon_;
  static std::shared_ptr<grpc::Channel> channel_;
};

DaemonProcess* DaemonGrpcTest::daemon_ = nullptr;
std::shared_ptr<grpc::Channel> DaemonGrpcTest::channel_;

std::vector<double> RPredictions(const std::vector<std::pair<double, double>>& rows) {
  std::ostringstream wt, hp;
  for (size_t i = 0; i < rows.size(); ++i) {
    wt << (i ? "," : "") << rows[i].first;
    hp << (i ? "," : "") << rows[i].second;
  }
  std::istringstream out(
      RunCommand("Rscript -e 'fit <- readRDS(\"" + ExampleModelDir("mtcars_am") +
                 "/model.rds\"); cat(sprintf(\"%.17g\", predict(fit, newdata = data.frame(wt = c(" +
                 wt.str() + "), hp = c(" + hp.str() + ")), type = \"response\")))'"));
  std::vector<double> v;
  double d;
  while (out >> d) v.push_back(d);
  return v;
}

TEST_F(DaemonGrpcTest, StatusAndMetadataRpcs) {
  grpc::ClientContext c1, c2, c3, c4, c5;
  ServerLiveResponse live;
  ASSERT_TRUE(stub_->ServerLive(&c1, {}, &live).ok());
  EXPECT_TRUE(live.live());
  ServerReadyResponse ready;
  ASSERT_TRUE(stub_->ServerReady(&c2, {}, &ready).ok());
  EXPECT_TRUE(ready.ready());
  ModelReadyRequest mr;
  mr.set_name("describe");
  ModelReadyResponse mready;
  ASSERT_TRUE(stub_->ModelReady(&c3, mr, &mready).ok());
  EXPECT_TRUE(mready.ready());
  ServerMetadataResponse smeta;
  ASSERT_TRUE(stub_->ServerMetadata(&c4, {}, &smeta).ok());
  EXPECT_EQ(smeta.name(), "modelgate");
  ModelMetadataRequest mm;
  mm.set_name("iris_species");
  ModelMetadataResponse meta;
  ASSERT_TRUE(stub_->ModelMetadata(&c5, mm, &meta).ok());
  EXPECT_EQ(meta.platform(), "modelgate_python");
  ASSERT_EQ(meta.inputs_size(), 1);
  EXPECT_EQ(meta.inputs(0).name(), "features");
  EXPECT_EQ(meta.inputs(0).shape(1), 4);
  ASSERT_EQ(meta.outputs_size(), 2);
  EXPECT_EQ(meta.outputs(1).name(), "probabilities");
}

TEST_F(DaemonGrpcTest, TypedAndRawInferMatchR) {
  const std::vector<std::pair<double, double>> rows = {{2.62, 110}, {5.25, 230}, {1.9, 66}};
  const auto expected = RPredictions(rows);
  ASSERT_EQ(expected.size(), rows.size());
  for (bool raw : {false, true}) {
    SCOPED_TRACE(raw ? "raw" : "typed");
    ModelInferRequest req;
    req.set_model_name("mtcars_am");
    req.set_id("cpp-" + std::to_string(raw));
    for (int k = 0; k < 2; ++k) {
      auto* in = req.add_inputs();
      in->set_name(k == 0 ? "wt" : "hp");
      in->set_datatype("FP64");
      in->add_shape(static_cast<int64_t>(rows.size()));
      std::vector<double> col;
      for (auto& r : rows) col.push_back(k == 0 ? r.first : r.second);
      if (raw) {
        req.add_raw_input_contents(
            std::string(reinterpret_cast<char*>(col.data()), col.size() * 8));
      } else {
        for (double v : col) in->mutable_contents()->add_fp64_contents(v);
      }
    }
    grpc::ClientContext ctx;
    ModelInferResponse resp;
    grpc::Status s = stub_->ModelInfer(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(resp.id(), req.id());
    EXPECT_EQ(resp.model_version(), "1");
    ASSERT_EQ(resp.outputs_size(), 1);
    std::vector<double> got(rows.size());
    if (raw) {
      ASSERT_EQ(resp.raw_output_contents_size(), 1);
      std::memcpy(got.data(), resp.raw_output_contents(0).data(), got.size() * 8);
    } else {
      ASSERT_EQ(resp.raw_output_contents_size(), 0);
      ASSERT_EQ(resp.outputs(0).contents().fp64_contents_size(), 3);
      for (int i = 0; i < 3; ++i) got[i] = resp.outputs(0).contents().fp64_contents(i);
    }
    for (size_t i = 0; i < rows.size(); ++i) EXPECT_NEAR(got[i], expected[i], 1e-12);
    auto it = ctx.GetServerTrailingMetadata().find("x-request-id");
    ASSERT_NE(it, ctx.GetServerTrailingMetadata().end());
    EXPECT_EQ(std::string(it->second.data(), it->second.size()), req.id());
  }
}

TEST_F(DaemonGrpcTest, BadRequestsGetTheRightCodes) {
  auto call = [&](const ModelInferRequest& r) {
    grpc::ClientContext ctx;
    ModelInferResponse resp;
    return stub_->ModelInfer(&ctx, r, &resp);
  };
  ModelInferRequest unknown;
  unknown.set_model_name("nope");
  EXPECT_EQ(call(unknown).error_code(), grpc::StatusCode::NOT_FOUND);

  ModelInferRequest bad_version;
  bad_version.set_model_name("describe");
  bad_version.set_model_version("7");
  EXPECT_EQ(call(bad_version).error_code(), grpc::StatusCode::NOT_FOUND);

  ModelInferRequest wrong_shape;
  wrong_shape.set_model_name("iris_species");
  auto* in = wrong_shape.add_inputs();
  in->set_name("features");
  in->set_datatype("FP64");
  in->add_shape(1);
  in->add_shape(2);
  in->mutable_contents()->add_fp64_contents(1);
  in->mutable_contents()->add_fp64_contents(2);
  grpc::Status s = call(wrong_shape);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("input 'features'"), std::string::npos) << s.error_message();

  ModelInferRequest wrong_type = wrong_shape;
  wrong_type.mutable_inputs(0)->set_datatype("INT32");
  wrong_type.mutable_inputs(0)->clear_contents();
  wrong_type.mutable_inputs(0)->clear_shape();
  wrong_type.mutable_inputs(0)->add_shape(1);
  wrong_type.mutable_inputs(0)->add_shape(4);
  for (int i = 0; i < 4; ++i) wrong_type.mutable_inputs(0)->mutable_contents()->add_int_contents(i);
  s = call(wrong_type);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("INT32"), std::string::npos) << s.error_message();

  ModelInferRequest model_flagged;
  model_flagged.set_model_name("describe");
  auto* x = model_flagged.add_inputs();
  x->set_name("x");
  x->set_datatype("FP64");
  x->add_shape(1);
  x->mutable_contents()->add_fp64_contents(3);
  s = call(model_flagged);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "x needs at least 2 values");
}

TEST_F(DaemonGrpcTest, HealthServiceReportsOverallAndPerModel) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  for (const char* service : {"", "mtcars_am", "iris_species", "describe"}) {
    grpc::ClientContext ctx;
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(service);
    grpc::health::v1::HealthCheckResponse resp;
    ASSERT_TRUE(health->Check(&ctx, req, &resp).ok()) << service;
    EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING) << service;
  }
}

}  // namespace
}  // namespace modelgate::testing
