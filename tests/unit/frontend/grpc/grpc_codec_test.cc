#include "frontend/grpc/grpc_codec.h"

#include <gtest/gtest.h>

namespace modelgate {
namespace {

inference::ModelInferRequest OneInput(std::vector<int64_t> shape) {
  inference::ModelInferRequest req;
  req.set_model_name("m");
  auto* in = req.add_inputs();
  in->set_name("x");
  in->set_datatype("FP64");
  for (int64_t d : shape) in->add_shape(d);
  return req;
}

void ExpectInvalid(const StatusOr<InferRequest>& r, const std::string& fragment) {
  ASSERT_FALSE(r.ok()) << fragment;
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().message();
  EXPECT_NE(r.status().message().find(fragment), std::string::npos) << r.status().message();
}

TEST(GrpcCodecTest, IdsFollowTheRequestIdRule) {
  for (std::string id : {"é", "x\ny", "a\tb", "a b"}) {
    auto req = OneInput({1});
    req.mutable_inputs(0)->mutable_contents()->add_fp64_contents(1);
    req.set_id(id);
    ExpectInvalid(FromGrpc(req), "request id in field 'id'");
  }
  auto req = OneInput({1});
  req.mutable_inputs(0)->mutable_contents()->add_fp64_contents(1);
  req.set_id("ok-1");
  auto r = FromGrpc(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->id, "ok-1");
}

TEST(GrpcCodecTest, ShapesAreCheckedBeforeAnyPayloadIsCopied) {
  ExpectInvalid(FromGrpc(OneInput({int64_t{1} << 62, 4})), "declares more elements");
  ExpectInvalid(FromGrpc(OneInput({0, 4})), "input 'x': shape [0,4] has no elements");
  ExpectInvalid(FromGrpc(OneInput({-1})), "negative dimension");
  auto many = FromGrpc(OneInput(std::vector<int64_t>(200000, 1)));
  ExpectInvalid(many, "shape has 200000 dimensions; at most 16");
  EXPECT_LT(many.status().message().size(), 200u);

  auto raw = OneInput({int64_t{1} << 62, 4});
  raw.add_raw_input_contents("");
  ExpectInvalid(FromGrpc(raw), "declares more elements");
  auto short_raw = OneInput({2, 2});
  short_raw.add_raw_input_contents(std::string(24, '\0'));
  ExpectInvalid(FromGrpc(short_raw), "needs 4 elements of 8 bytes, raw_input_contents has 24");
  auto typed = OneInput({3});
  typed.mutable_inputs(0)->mutable_contents()->add_fp64_contents(1);
  ExpectInvalid(FromGrpc(typed), "needs 3 elements, contents has 1");
}

TEST(GrpcCodecTest, RawBytesElementsMustMatchTheShape) {
  auto req = OneInput({1000000});
  req.mutable_inputs(0)->set_datatype("BYTES");
  req.add_raw_input_contents(std::string("\x01\x00\x00\x00z", 5));
  ExpectInvalid(FromGrpc(req), "needs 1000000 BYTES elements");
  auto two = OneInput({2});
  two.mutable_inputs(0)->set_datatype("BYTES");
  two.add_raw_input_contents(std::string("\x01\x00\x00\x00z\x00\x00\x00\x00\x00\x00\x00\x00", 13));
  ExpectInvalid(FromGrpc(two), "must be 2 elements");  // three were sent
  auto ok = OneInput({2});
  ok.mutable_inputs(0)->set_datatype("BYTES");
  ok.add_raw_input_contents(std::string("\x01\x00\x00\x00z\x00\x00\x00\x00", 9));
  auto r = FromGrpc(ok);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->inputs[0].strings, (std::vector<std::string>{"z", ""}));
}

TEST(GrpcCodecTest, HalfPrecisionOutputsGoRawNotEmpty) {
  InferResponse resp;
  Tensor h;
  h.name = "h";
  h.datatype = DataType::kFp16;
  h.shape = {1};
  h.raw = std::string("\x00\x3e", 2);
  Tensor d;
  d.name = "d";
  d.datatype = DataType::kFp64;
  d.shape = {1};
  d.raw = std::string(8, '\0');
  resp.outputs = {h, d};
  inference::ModelInferResponse out;
  ToGrpc(std::move(resp), /*raw=*/false, &out);
  ASSERT_EQ(out.raw_output_contents_size(), 2);
  EXPECT_EQ(out.raw_output_contents(0), std::string("\x00\x3e", 2));
  EXPECT_FALSE(out.outputs(1).has_contents());
}

}  // namespace
}  // namespace modelgate
