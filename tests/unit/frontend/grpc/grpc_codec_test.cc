#include "frontend/grpc/grpc_codec.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>

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

template <typename T>
std::string Bytes(std::initializer_list<T> values) {
  std::string out(values.size() * sizeof(T), '\0');
  size_t at = 0;
  for (T v : values) {
    std::memcpy(out.data() + at, &v, sizeof v);
    at += sizeof v;
  }
  return out;
}

inference::ModelInferRequest Typed(const std::string& datatype, int64_t n) {
  auto req = OneInput({n});
  req.mutable_inputs(0)->set_datatype(datatype);
  return req;
}

TEST(GrpcCodecTest, TypedContentsOfEveryDatatypeBecomeNativeRaw) {
  struct Case {
    std::string datatype;
    std::function<void(inference::InferTensorContents*)> fill;
    std::string raw;
  };
  const std::vector<Case> cases = {
      {"BOOL",
       [](auto* c) {
         c->add_bool_contents(true);
         c->add_bool_contents(false);
       },
       Bytes<bool>({true, false})},
      {"INT8",
       [](auto* c) {
         c->add_int_contents(-128);
         c->add_int_contents(127);
       },
       Bytes<int8_t>({-128, 127})},
      {"INT16",
       [](auto* c) {
         c->add_int_contents(-32768);
         c->add_int_contents(7);
       },
       Bytes<int16_t>({-32768, 7})},
      {"INT32",
       [](auto* c) {
         c->add_int_contents(INT32_MIN);
         c->add_int_contents(5);
       },
       Bytes<int32_t>({INT32_MIN, 5})},
      {"INT64",
       [](auto* c) {
         c->add_int64_contents(INT64_MIN);
         c->add_int64_contents(1);
       },
       Bytes<int64_t>({INT64_MIN, 1})},
      {"UINT8",
       [](auto* c) {
         c->add_uint_contents(255);
         c->add_uint_contents(0);
       },
       Bytes<uint8_t>({255, 0})},
      {"UINT16",
       [](auto* c) {
         c->add_uint_contents(65535);
         c->add_uint_contents(1);
       },
       Bytes<uint16_t>({65535, 1})},
      {"UINT32",
       [](auto* c) {
         c->add_uint_contents(UINT32_MAX);
         c->add_uint_contents(2);
       },
       Bytes<uint32_t>({UINT32_MAX, 2})},
      {"UINT64",
       [](auto* c) {
         c->add_uint64_contents(UINT64_MAX);
         c->add_uint64_contents(3);
       },
       Bytes<uint64_t>({UINT64_MAX, 3})},
      {"FP32",
       [](auto* c) {
         c->add_fp32_contents(1.5f);
         c->add_fp32_contents(-0.25f);
       },
       Bytes<float>({1.5f, -0.25f})},
      {"FP64",
       [](auto* c) {
         c->add_fp64_contents(2.5);
         c->add_fp64_contents(-1e300);
       },
       Bytes<double>({2.5, -1e300})},
  };
  for (const auto& c : cases) {
    auto req = Typed(c.datatype, 2);
    c.fill(req.mutable_inputs(0)->mutable_contents());
    auto r = FromGrpc(req);
    ASSERT_TRUE(r.ok()) << c.datatype << ": " << r.status().ToString();
    ASSERT_EQ(r->inputs.size(), 1u);
    EXPECT_EQ(DataTypeName(r->inputs[0].datatype), c.datatype);
    EXPECT_EQ(r->inputs[0].shape, (std::vector<int64_t>{2}));
    EXPECT_EQ(r->inputs[0].raw, c.raw) << c.datatype;
  }
}

TEST(GrpcCodecTest, TypedValuesOutOfRangeForANarrowTypeAreRejectedNamingTheValue) {
  auto i8 = Typed("INT8", 1);
  i8.mutable_inputs(0)->mutable_contents()->add_int_contents(200);
  ExpectInvalid(FromGrpc(i8), "input 'x': 200 is out of range for INT8");
  auto u16 = Typed("UINT16", 1);
  u16.mutable_inputs(0)->mutable_contents()->add_uint_contents(70000);
  ExpectInvalid(FromGrpc(u16), "input 'x': 70000 is out of range for UINT16");
  auto i16 = Typed("INT16", 1);
  i16.mutable_inputs(0)->mutable_contents()->add_int_contents(-40000);
  ExpectInvalid(FromGrpc(i16), "-40000 is out of range for INT16");
}

TEST(GrpcCodecTest, TypedBytesBecomeStrings) {
  auto req = Typed("BYTES", 2);
  req.mutable_inputs(0)->mutable_contents()->add_bytes_contents("a");
  req.mutable_inputs(0)->mutable_contents()->add_bytes_contents(std::string("\0b", 2));
  auto r = FromGrpc(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->inputs[0].strings, (std::vector<std::string>{"a", std::string("\0b", 2)}));
  EXPECT_TRUE(r->inputs[0].raw.empty());
}

TEST(GrpcCodecTest, RawInputContentsAreTakenAsSentWithTheRequestFields) {
  inference::ModelInferRequest req;
  req.set_model_name("iris");
  req.set_model_version("3");
  req.set_id("r-1");
  auto* a = req.add_inputs();
  a->set_name("a");
  a->set_datatype("FP32");
  a->add_shape(2);
  a->add_shape(2);
  auto* b = req.add_inputs();
  b->set_name("b");
  b->set_datatype("INT64");
  b->add_shape(1);
  req.add_raw_input_contents(Bytes<float>({1, 2, 3, 4}));
  req.add_raw_input_contents(Bytes<int64_t>({-9}));
  req.add_outputs()->set_name("label");
  req.add_outputs()->set_name("prob");
  auto r = FromGrpc(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->model, "iris");
  EXPECT_EQ(r->version, "3");
  EXPECT_EQ(r->id, "r-1");
  ASSERT_EQ(r->inputs.size(), 2u);
  EXPECT_EQ(r->inputs[0].name, "a");
  EXPECT_EQ(r->inputs[0].datatype, DataType::kFp32);
  EXPECT_EQ(r->inputs[0].shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(r->inputs[0].raw, Bytes<float>({1, 2, 3, 4}));
  EXPECT_EQ(r->inputs[1].raw, Bytes<int64_t>({-9}));
  EXPECT_EQ(r->requested_outputs, (std::vector<std::string>{"label", "prob"}));
}

TEST(GrpcCodecTest, HalfPrecisionInputsTravelRawOnly) {
  auto raw = Typed("FP16", 2);
  raw.add_raw_input_contents(std::string("\x00\x3c\x00\x40", 4));
  auto r = FromGrpc(raw);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->inputs[0].raw, std::string("\x00\x3c\x00\x40", 4));
  auto typed = Typed("FP16", 2);
  typed.mutable_inputs(0)->mutable_contents()->add_fp32_contents(1);
  typed.mutable_inputs(0)->mutable_contents()->add_fp32_contents(2);
  ExpectInvalid(FromGrpc(typed), "input 'x'");
  EXPECT_NE(FromGrpc(typed).status().message().find("raw_input_contents"), std::string::npos);
}

TEST(GrpcCodecTest, MalformedRequestsAreInvalidArgumentNamingTheInput) {
  auto unknown = Typed("FLOAT", 1);
  ExpectInvalid(FromGrpc(unknown), "input 'x': unknown datatype 'FLOAT'");

  auto both = Typed("FP64", 1);
  both.mutable_inputs(0)->mutable_contents()->add_fp64_contents(1);
  both.add_raw_input_contents(Bytes<double>({1}));
  ExpectInvalid(FromGrpc(both), "input 'x': set either contents or raw_input_contents, not both");

  auto two = Typed("FP64", 1);
  auto* second = two.add_inputs();
  second->set_name("y");
  second->set_datatype("FP64");
  second->add_shape(1);
  two.add_raw_input_contents(Bytes<double>({1}));
  ExpectInvalid(FromGrpc(two),
                "raw_input_contents has 1 entries for 2 inputs; it needs one per input, in order");

  auto ragged = Typed("INT32", 2);
  ragged.add_raw_input_contents(std::string(7, '\0'));
  ExpectInvalid(FromGrpc(ragged), "needs 2 elements of 4 bytes, raw_input_contents has 7 bytes");

  auto wrong_field = Typed("INT64", 2);  // INT64 reads int64_contents, not int_contents
  wrong_field.mutable_inputs(0)->mutable_contents()->add_int_contents(1);
  wrong_field.mutable_inputs(0)->mutable_contents()->add_int_contents(2);
  ExpectInvalid(FromGrpc(wrong_field), "needs 2 elements, contents has 0");

  auto scalar = Typed("FP64", 1);
  scalar.mutable_inputs(0)->clear_shape();
  scalar.mutable_inputs(0)->mutable_contents()->add_fp64_contents(1);
  auto r = FromGrpc(scalar);  // a scalar holds one element
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->inputs[0].shape.empty());
}

Tensor Output(const std::string& name, DataType type, std::vector<int64_t> shape, std::string raw) {
  Tensor t;
  t.name = name;
  t.datatype = type;
  t.shape = std::move(shape);
  t.raw = std::move(raw);
  return t;
}

TEST(GrpcCodecTest, TypedResponseFillsTheFieldOfEachDatatype) {
  InferResponse resp;
  resp.model = "m";
  resp.version = "2";
  resp.id = "r-9";
  resp.outputs = {Output("i8", DataType::kInt8, {2}, Bytes<int8_t>({-5, 6})),
                  Output("u64", DataType::kUint64, {1}, Bytes<uint64_t>({UINT64_MAX})),
                  Output("f32", DataType::kFp32, {1}, Bytes<float>({0.5f})),
                  Output("b", DataType::kBool, {2}, Bytes<bool>({false, true}))};
  Tensor s;
  s.name = "s";
  s.datatype = DataType::kBytes;
  s.shape = {2};
  s.strings = {"x", ""};
  resp.outputs.push_back(s);
  inference::ModelInferResponse out;
  ToGrpc(std::move(resp), /*raw=*/false, &out);
  EXPECT_EQ(out.model_name(), "m");
  EXPECT_EQ(out.model_version(), "2");
  EXPECT_EQ(out.id(), "r-9");
  EXPECT_EQ(out.raw_output_contents_size(), 0);
  ASSERT_EQ(out.outputs_size(), 5);
  EXPECT_EQ(out.outputs(0).datatype(), "INT8");
  EXPECT_EQ(out.outputs(0).shape(0), 2);
  EXPECT_EQ(std::vector<int32_t>(out.outputs(0).contents().int_contents().begin(),
                                 out.outputs(0).contents().int_contents().end()),
            (std::vector<int32_t>{-5, 6}));
  EXPECT_EQ(out.outputs(1).contents().uint64_contents(0), UINT64_MAX);
  EXPECT_EQ(out.outputs(2).contents().fp32_contents(0), 0.5f);
  EXPECT_EQ(out.outputs(3).contents().bool_contents_size(), 2);
  EXPECT_TRUE(out.outputs(3).contents().bool_contents(1));
  ASSERT_EQ(out.outputs(4).contents().bytes_contents_size(), 2);
  EXPECT_EQ(out.outputs(4).contents().bytes_contents(0), "x");
}

TEST(GrpcCodecTest, RawResponseCarriesNativeBytesAndLengthPrefixedStrings) {
  InferResponse resp;
  resp.outputs = {Output("d", DataType::kFp64, {2}, Bytes<double>({1, 2}))};
  Tensor s;
  s.name = "s";
  s.datatype = DataType::kBytes;
  s.shape = {2};
  s.strings = {"ab", ""};
  resp.outputs.push_back(s);
  inference::ModelInferResponse out;
  ToGrpc(std::move(resp), /*raw=*/true, &out);
  ASSERT_EQ(out.raw_output_contents_size(), 2);
  EXPECT_EQ(out.raw_output_contents(0), Bytes<double>({1, 2}));
  EXPECT_EQ(out.raw_output_contents(1), std::string("\x02\x00\x00\x00"
                                                    "ab\x00\x00\x00\x00",
                                                    10));
  EXPECT_FALSE(out.outputs(0).has_contents());
  EXPECT_EQ(out.outputs(1).datatype(), "BYTES");
}

TEST(GrpcCodecTest, RawBytesRoundTripThroughRequestAndResponse) {
  auto req = Typed("BYTES", 3);
  req.add_raw_input_contents(
      std::string("\x01\x00\x00\x00z\x00\x00\x00\x00\x03\x00\x00\x00"
                  "abc",
                  16));
  auto r = FromGrpc(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  InferResponse resp;
  resp.outputs = r->inputs;
  inference::ModelInferResponse out;
  ToGrpc(std::move(resp), /*raw=*/true, &out);
  EXPECT_EQ(out.raw_output_contents(0), req.raw_input_contents(0));
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

namespace modelgate {
namespace {

TEST(GrpcCodecTest, ModelParametersAreCarriedAndDaemonKeysStripped) {
  auto req = OneInput({1});
  req.mutable_inputs(0)->mutable_contents()->add_fp64_contents(1);
  auto& p = *req.mutable_parameters();
  p["timeout"].set_int64_param(1000);
  p["sequence_id"].set_uint64_param(3);
  p["triton_enable_empty_final_response"].set_bool_param(true);
  p["alternative"].set_string_param("greater");
  p["window"].set_int64_param(-7);
  p["count"].set_uint64_param(42);
  p["scale"].set_double_param(0.25);
  p["prob"].set_bool_param(false);
  auto r = FromGrpc(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Parameters expected = {{"alternative", std::string("greater")},
                               {"count", int64_t{42}},
                               {"prob", false},
                               {"scale", 0.25},
                               {"window", int64_t{-7}}};
  EXPECT_EQ(r->parameters, expected);
}

TEST(GrpcCodecTest, BadModelParametersAreRejectedNamingTheKey) {
  auto base = OneInput({1});
  base.mutable_inputs(0)->mutable_contents()->add_fp64_contents(1);
  {
    auto req = base;
    (*req.mutable_parameters())["empty"];
    ExpectInvalid(FromGrpc(req), "request parameter 'empty' has no value");
  }
  {
    auto req = base;
    (*req.mutable_parameters())["u"].set_uint64_param(uint64_t{1} << 63);
    ExpectInvalid(FromGrpc(req), "'u': uint64_param 9223372036854775808 does not fit");
  }
  {
    auto req = base;
    (*req.mutable_parameters())["bad\tkey"].set_bool_param(true);
    ExpectInvalid(FromGrpc(req), "'bad\\x09key': the name must be UTF-8 without control");
  }
  {
    auto req = base;
    (*req.mutable_parameters())["s"].set_string_param(
        std::string(kMaxParameterValueBytes + 1, 'v'));
    ExpectInvalid(FromGrpc(req), "request parameter 's': the value has 65537 bytes");
  }
  {
    auto req = base;
    for (size_t i = 0; i <= kMaxParameters; ++i) {
      (*req.mutable_parameters())["p" + std::to_string(i)].set_int64_param(1);
    }
    ExpectInvalid(FromGrpc(req), "more than 64 parameters");
  }
}

}  // namespace
}  // namespace modelgate
