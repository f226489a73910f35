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

TEST(GrpcCodecTest, TypedContentsUseTheFieldOfEachDatatype) {
  struct Case {
    const char* type;
    void (*fill)(inference::InferTensorContents*);
    int (*count)(const inference::InferTensorContents&);
  };
  const Case cases[] = {
      {"BOOL", [](auto* c) { c->add_bool_contents(true); },
       [](const auto& c) { return c.bool_contents_size(); }},
      {"INT8", [](auto* c) { c->add_int_contents(-3); },
       [](const auto& c) { return c.int_contents_size(); }},
      {"INT16", [](auto* c) { c->add_int_contents(-3); },
       [](const auto& c) { return c.int_contents_size(); }},
      {"INT32", [](auto* c) { c->add_int_contents(-3); },
       [](const auto& c) { return c.int_contents_size(); }},
      {"INT64", [](auto* c) { c->add_int64_contents(-3); },
       [](const auto& c) { return c.int64_contents_size(); }},
      {"UINT8", [](auto* c) { c->add_uint_contents(3); },
       [](const auto& c) { return c.uint_contents_size(); }},
      {"UINT16", [](auto* c) { c->add_uint_contents(3); },
       [](const auto& c) { return c.uint_contents_size(); }},
      {"UINT32", [](auto* c) { c->add_uint_contents(3); },
       [](const auto& c) { return c.uint_contents_size(); }},
      {"UINT64", [](auto* c) { c->add_uint64_contents(3); },
       [](const auto& c) { return c.uint64_contents_size(); }},
      {"FP32", [](auto* c) { c->add_fp32_contents(1.5f); },
       [](const auto& c) { return c.fp32_contents_size(); }},
      {"FP64", [](auto* c) { c->add_fp64_contents(1.5); },
       [](const auto& c) { return c.fp64_contents_size(); }},
      {"BYTES", [](auto* c) { c->add_bytes_contents("z"); },
       [](const auto& c) { return c.bytes_contents_size(); }},
  };
  for (const Case& c : cases) {
    auto req = OneInput({1});
    req.mutable_inputs(0)->set_datatype(c.type);
    c.fill(req.mutable_inputs(0)->mutable_contents());
    auto r = FromGrpc(req);
    ASSERT_TRUE(r.ok()) << c.type << ": " << r.status().ToString();
    EXPECT_EQ(r->inputs[0].HeldElements(), 1) << c.type;
    // Echoed back as an output, the value lands in the same typed field.
    InferResponse resp;
    resp.outputs = std::move(r->inputs);
    inference::ModelInferResponse out;
    ToGrpc(std::move(resp), /*raw=*/false, &out);
    ASSERT_EQ(out.outputs_size(), 1) << c.type;
    EXPECT_EQ(c.count(out.outputs(0).contents()), 1) << c.type;
    EXPECT_EQ(out.raw_output_contents_size(), 0) << c.type;
    inference::ModelInferRequest again = req;
    *again.mutable_inputs(0)->mutable_contents() = out.outputs(0).contents();
    EXPECT_EQ(again.SerializeAsString(), req.SerializeAsString()) << c.type;
  }
}

TEST(GrpcCodecTest, HalfPrecisionInputsNeedRawContents) {
  for (const char* type : {"FP16", "BF16"}) {
    auto typed = OneInput({1});
    typed.mutable_inputs(0)->set_datatype(type);
    typed.mutable_inputs(0)->mutable_contents()->add_fp32_contents(1.5f);
    ExpectInvalid(FromGrpc(typed), "input 'x': datatype " + std::string(type) +
                                       " has no typed contents field; send raw_input_contents");
    auto raw = OneInput({2});
    raw.mutable_inputs(0)->set_datatype(type);
    raw.add_raw_input_contents(std::string("\x00\x3e\x00\xc0", 4));
    auto r = FromGrpc(raw);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->inputs[0].raw, std::string("\x00\x3e\x00\xc0", 4));
  }
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

  InferResponse bf;
  Tensor b = h;
  b.datatype = DataType::kBf16;
  b.raw = std::string("\xc0\x3f", 2);
  bf.outputs = {b};
  inference::ModelInferResponse bf_out;
  ToGrpc(std::move(bf), /*raw=*/false, &bf_out);
  ASSERT_EQ(bf_out.raw_output_contents_size(), 1);
  EXPECT_EQ(bf_out.outputs(0).datatype(), "BF16");
  EXPECT_EQ(bf_out.raw_output_contents(0), std::string("\xc0\x3f", 2));
}

}  // namespace
}  // namespace modelgate
