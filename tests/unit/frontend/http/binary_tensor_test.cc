// Triton's binary tensor data extension in the V2 REST codec: request and
// response bodies built byte by byte from the published layout
// (docs/protocol/extension_binary_data.md), and every malformed body.
#include "frontend/http/binary_tensor.h"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "frontend/http/rest_codec.h"

namespace modelgate {
namespace {

using nlohmann::json;

const SteadyTime kNow = SteadyTime{} + std::chrono::hours(1);

// Little-endian bytes of `values`, as numpy's tobytes() writes them on x86.
template <class T>
std::string Le(std::vector<T> values) {
  std::string out(values.size() * sizeof(T), '\0');
  std::memcpy(out.data(), values.data(), out.size());
  return out;
}

// One BYTES element: 4-byte little-endian length, then the bytes.
std::string Element(std::string_view s) {
  const auto n = static_cast<uint32_t>(s.size());
  std::string out = {static_cast<char>(n & 0xff), static_cast<char>((n >> 8) & 0xff),
                     static_cast<char>((n >> 16) & 0xff), static_cast<char>((n >> 24) & 0xff)};
  return out + std::string(s);
}

// Parses `json_text` + `binary` with the header set to the JSON's length.
StatusOr<InferRequest> Parse(const std::string& json_text, const std::string& binary) {
  return ParseV2InferRequest(json_text + binary, kNow, json_text.size());
}

void ExpectInvalid(const StatusOr<InferRequest>& r, const std::string& fragment) {
  ASSERT_FALSE(r.ok()) << "expected an error containing: " << fragment;
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(fragment), std::string::npos)
      << r.status().message() << "\n  does not contain: " << fragment;
}

TEST(BinaryTensorTest, ParsesThePublishedExampleByteForByte) {
  const std::string head = R"({"model_name":"mymodel","inputs":[
    {"name":"input0","shape":[2,2],"datatype":"UINT32","parameters":{"binary_data_size":16}},
    {"name":"input1","shape":[3],"datatype":"BOOL","parameters":{"binary_data_size":3}}],
    "outputs":[{"name":"output0","parameters":{"binary_data":true}}]})";
  const std::string data = Le<uint32_t>({1, 2, 0xfffffffe, 7}) + std::string("\x01\x00\x01", 3);
  auto r = Parse(head, data);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->inputs.size(), 2u);
  EXPECT_EQ(r->inputs[0].shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(r->inputs[0].raw, data.substr(0, 16));
  EXPECT_EQ(r->inputs[1].datatype, DataType::kBool);
  EXPECT_EQ(r->inputs[1].raw, std::string("\x01\x00\x01", 3));
  EXPECT_EQ(r->requested_outputs, std::vector<std::string>{"output0"});
  EXPECT_TRUE(r->binary_outputs.Binary("output0"));
  EXPECT_FALSE(r->binary_outputs.Binary("other"));
}

TEST(BinaryTensorTest, MixedJsonAndBinaryInputsTakeTheirBytesInInputOrder) {
  // JSON inputs before, between and after binary ones: only binary inputs
  // consume bytes. BYTES elements keep NUL and non-UTF-8 bytes as sent.
  const std::string head = R"({"inputs":[
    {"name":"j0","shape":[1],"datatype":"INT32","data":[5]},
    {"name":"a","shape":[2],"datatype":"FP64","parameters":{"binary_data_size":16}},
    {"name":"j1","shape":[2],"datatype":"BYTES","data":["p","q"]},
    {"name":"s","shape":[3],"datatype":"BYTES","parameters":{"binary_data_size":17}},
    {"name":"j2","shape":[1],"datatype":"BOOL","data":[true]}]})";
  const std::string a = Le<double>({0.1, -2.5e300});
  const std::string s = Element("") + Element(std::string("x\0y", 3)) + Element("\xff\xfe");
  ASSERT_EQ(s.size(), 17u);
  auto r = Parse(head, a + s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->inputs.size(), 5u);
  EXPECT_EQ(r->inputs[0].raw, Le<int32_t>({5}));
  EXPECT_EQ(r->inputs[1].raw, a);
  EXPECT_EQ(r->inputs[2].strings, (std::vector<std::string>{"p", "q"}));
  EXPECT_EQ(r->inputs[3].strings,
            (std::vector<std::string>{"", std::string("x\0y", 3), "\xff\xfe"}));
  EXPECT_EQ(r->inputs[4].raw, std::string("\x01", 1));
}

TEST(BinaryTensorTest, FloatBitsPassThroughExactly) {
  // FP16/BF16 as their 16 bits; an FP32 NaN payload, -0 and infinities.
  const std::string head = R"({"inputs":[
    {"name":"h","shape":[2],"datatype":"FP16","parameters":{"binary_data_size":4}},
    {"name":"b","shape":[1],"datatype":"BF16","parameters":{"binary_data_size":2}},
    {"name":"f","shape":[4],"datatype":"FP32","parameters":{"binary_data_size":16}}]})";
  const std::string h = Le<uint16_t>({0x3c00, 0x7e01});
  const std::string b = Le<uint16_t>({0xff80});
  const std::string f = Le<uint32_t>({0x7fc00123, 0x80000000, 0x7f800000, 0xff800000});
  auto r = Parse(head, h + b + f);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->inputs[0].raw, h);
  EXPECT_EQ(r->inputs[1].raw, b);
  EXPECT_EQ(r->inputs[2].raw, f);
}

TEST(BinaryTensorTest, BinaryDataOutputCoversEveryOutputUnlessAnOutputSaysOtherwise) {
  auto r = ParseV2InferRequest(R"({"parameters":{"binary_data_output":true},
    "inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[1]}],
    "outputs":[{"name":"a","parameters":{"binary_data":false}},{"name":"b"}]})",
                               kNow);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->binary_outputs.Binary("a"));
  EXPECT_TRUE(r->binary_outputs.Binary("b"));
  EXPECT_TRUE(r->binary_outputs.Binary("unlisted"));
  // Without any of the parameters every output is JSON.
  auto plain = ParseV2InferRequest(
      R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[1]}]})", kNow);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->binary_outputs.Binary("a"));
}

TEST(BinaryTensorTest, AHeaderCoveringTheWholeBodyIsPlainJson) {
  const std::string head = R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[2]}]})";
  auto r = Parse(head, "");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->inputs[0].raw, Le<double>({2}));
}

TEST(BinaryTensorTest, EveryMalformedBodyIs400NamingWhatIsWrong) {
  const std::string fp32x2 =
      R"({"inputs":[{"name":"x","shape":[2],"datatype":"FP32","parameters":{"binary_data_size":8}}]})";
  const std::string f8 = Le<float>({1, 2});
  // The header claims more than the body has.
  ExpectInvalid(ParseV2InferRequest(fp32x2 + f8, kNow, fp32x2.size() + 9),
                "is " + std::to_string(fp32x2.size() + 9) + ", but the body has only " +
                    std::to_string(fp32x2.size() + 8) + " bytes");
  // Triton's raw binary request (no JSON at all) is refused by name.
  ExpectInvalid(ParseV2InferRequest(f8, kNow, 0), "raw binary request");
  // The header cuts the JSON short.
  ExpectInvalid(ParseV2InferRequest(fp32x2 + f8, kNow, fp32x2.size() - 1), "malformed JSON");
  // Sizes that add up to less, or more, than the bytes after the JSON.
  ExpectInvalid(Parse(fp32x2, f8 + "zz"),
                "the body has 10 bytes after the JSON, but the inputs' binary_data_size add up "
                "to 8");
  ExpectInvalid(Parse(fp32x2, f8.substr(0, 6)),
                "input 'x': parameters.binary_data_size 8 runs past the end of the body");
  // Bytes after the JSON with no binary input at all.
  ExpectInvalid(
      Parse(R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[2]}]})", "junk"),
      "the body has 4 bytes after the JSON, but the inputs' binary_data_size add up to 0");

  struct Case {
    std::string head;
    std::string binary;
    std::string fragment;
  } cases[] = {
      // A size that does not match the shape, or is not whole elements.
      {R"({"inputs":[{"name":"x","shape":[2],"datatype":"FP32","parameters":{"binary_data_size":4}}]})",
       Le<float>({1}),
       "input 'x': parameters.binary_data_size is 4, but shape [2] of FP32 needs 2 x 4"},
      {R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP64","parameters":{"binary_data_size":7}}]})",
       std::string(7, 'a'), "input 'x': parameters.binary_data_size is 7"},
      // A shape of 10^12 elements against 4 bytes: refused, never allocated.
      {R"({"inputs":[{"name":"x","shape":[1000000000000],"datatype":"UINT8","parameters":{"binary_data_size":4}}]})",
       "abcd", "needs 1000000000000 x 1 bytes"},
      {R"({"inputs":[{"name":"s","shape":[1000000000000],"datatype":"BYTES","parameters":{"binary_data_size":8}}]})",
       Element("") + Element(""),
       "input 's': binary BYTES data: holds 2 elements, shape [1000000000000] needs 1000000000000"},
      // BYTES: a truncated prefix, a length past the end, too few, too many.
      {R"({"inputs":[{"name":"s","shape":[2],"datatype":"BYTES","parameters":{"binary_data_size":7}}]})",
       Element("a") + std::string("\x01\x00", 2),
       "input 's': binary BYTES data: element 1 has a truncated length prefix (2 of 4 bytes)"},
      {R"({"inputs":[{"name":"s","shape":[1],"datatype":"BYTES","parameters":{"binary_data_size":7}}]})",
       std::string("\x64\x00\x00\x00", 4) + "abc",
       "element 0 declares 100 bytes, but only 3 remain"},
      {R"({"inputs":[{"name":"s","shape":[3],"datatype":"BYTES","parameters":{"binary_data_size":10}}]})",
       Element("a") + Element("b"), "holds 2 elements, shape [3] needs 3"},
      {R"({"inputs":[{"name":"s","shape":[1],"datatype":"BYTES","parameters":{"binary_data_size":10}}]})",
       Element("a") + Element("b"), "5 bytes remain after the 1 elements that shape [1] holds"},
      // A BOOL byte other than 0 or 1.
      {R"({"inputs":[{"name":"b","shape":[2],"datatype":"BOOL","parameters":{"binary_data_size":2}}]})",
       std::string("\x01\x02", 2), "input 'b': BOOL element 1 is byte 2, not 0 or 1"},
      // Both "data" and binary data; an input after binary ones with neither.
      {R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1],"parameters":{"binary_data_size":4}}]})",
       Le<float>({1}), "input 'x': has both 'data' and parameters.binary_data_size"},
      {R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP32","parameters":{"binary_data_size":4}},
                     {"name":"y","shape":[1],"datatype":"FP32"}]})",
       Le<float>({1}), "input 'y': 'data' is missing"},
      // Parameters of the wrong type.
      {R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP32","parameters":{"binary_data_size":-4}}]})",
       "", "input 'x': parameters.binary_data_size must be a non-negative integer, got -4"},
      {R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP32","parameters":{"binary_data_size":"4"}}]})",
       "", "input 'x': parameters.binary_data_size must be a non-negative integer"},
      {R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP32","parameters":[4]}]})", "",
       "input 'x': 'parameters' must be an object"},
      {R"({"parameters":{"binary_data_output":1},"inputs":[]})", "",
       "parameter 'binary_data_output' must be true or false, got 1"},
      {R"({"inputs":[],"outputs":[{"name":"y","parameters":{"binary_data":"yes"}}]})", "",
       "output 'y': parameters.binary_data must be true or false"},
      // The shape is checked by the shared validator before any byte is read.
      {R"({"inputs":[{"name":"x","shape":[0],"datatype":"FP32","parameters":{"binary_data_size":0}}]})",
       "", "input 'x'"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.head);
    ExpectInvalid(Parse(c.head, c.binary), c.fragment);
  }
}

TEST(BinaryTensorTest, BinaryDataSizeWithoutTheHeaderIsRefused) {
  ExpectInvalid(
      ParseV2InferRequest(
          R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP32","parameters":{"binary_data_size":4}}]})",
          kNow),
      "input 'x' has parameters.binary_data_size, but the request has no "
      "Inference-Header-Content-Length header");
}

TEST(BinaryTensorTest, HeaderValuesAreDecimalByteCountsOnly) {
  EXPECT_EQ(ParseInferHeaderLength("0").value(), 0u);
  EXPECT_EQ(ParseInferHeaderLength("123").value(), 123u);
  EXPECT_EQ(ParseInferHeaderLength("18446744073709551615").value(),
            std::numeric_limits<size_t>::max());
  for (const char* bad : {"", "-1", "+5", " 5", "5 ", "1e3", "0x10", "12a", "18446744073709551616",
                          "000000000000000000001"}) {
    SCOPED_TRACE(bad);
    auto n = ParseInferHeaderLength(bad);
    ASSERT_FALSE(n.ok());
    EXPECT_NE(n.status().message().find("Inference-Header-Content-Length"), std::string::npos);
  }
}

Tensor Output(std::string name, DataType type, std::vector<int64_t> shape, std::string raw) {
  Tensor t;
  t.name = std::move(name);
  t.datatype = type;
  t.shape = std::move(shape);
  t.raw = std::move(raw);
  return t;
}

InferResponse Response() {
  InferResponse r;
  r.model = "m";
  r.version = "1";
  r.id = "r1";
  r.outputs.push_back(Output("y", DataType::kFp32, {3, 2}, Le<float>({1, 2, 3, 4, 5, 6.5f})));
  Tensor s = Output("s", DataType::kBytes, {2}, "");
  s.strings = {"ab", "\xff"};  // not UTF-8: fine in binary, an error in JSON
  r.outputs.push_back(std::move(s));
  r.outputs.push_back(Output("h", DataType::kFp16, {2}, Le<uint16_t>({0x3c00, 0x7c00})));
  r.outputs.push_back(Output("j", DataType::kInt64, {1}, Le<int64_t>({-7})));
  return r;
}

TEST(BinaryTensorTest, BinaryOutputsFollowTheJsonInOutputOrder) {
  BinaryOutputs binary;
  binary.on = {"y", "s", "h"};
  auto encoded = EncodeV2InferResponse(Response(), binary);
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  ASSERT_TRUE(encoded->json_bytes.has_value());
  const std::string& body = encoded->body;
  json head = json::parse(body.substr(0, *encoded->json_bytes));
  EXPECT_EQ(head["id"], "r1");
  const json& out = head["outputs"];
  EXPECT_EQ(out[0], json::parse(R"({"name":"y","datatype":"FP32","shape":[3,2],
                                    "parameters":{"binary_data_size":24}})"));
  EXPECT_EQ(out[1]["parameters"]["binary_data_size"], 4 + 2 + 4 + 1);
  EXPECT_FALSE(out[1].contains("data"));
  EXPECT_EQ(out[2]["parameters"]["binary_data_size"], 4);
  EXPECT_EQ(out[3]["data"], json({-7}));
  EXPECT_FALSE(out[3].contains("parameters"));
  EXPECT_EQ(body.substr(*encoded->json_bytes), Le<float>({1, 2, 3, 4, 5, 6.5f}) + Element("ab") +
                                                   Element("\xff") +
                                                   Le<uint16_t>({0x3c00, 0x7c00}));
}

TEST(BinaryTensorTest, BinaryDataOutputWithAnOverrideKeepsThatOutputJson) {
  InferResponse r = Response();
  r.outputs.erase(r.outputs.begin() + 1);  // no BYTES: every output can be JSON
  BinaryOutputs binary;
  binary.all = true;
  binary.off = {"j"};
  auto encoded = EncodeV2InferResponse(r, binary);
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  json head = json::parse(encoded->body.substr(0, *encoded->json_bytes));
  EXPECT_EQ(head["outputs"][2]["data"], json({-7}));
  EXPECT_EQ(encoded->body.substr(*encoded->json_bytes),
            Le<float>({1, 2, 3, 4, 5, 6.5f}) + Le<uint16_t>({0x3c00, 0x7c00}));
}

TEST(BinaryTensorTest, NoBinaryOutputIsTheSameJsonAsBefore) {
  InferResponse r = Response();
  r.outputs.erase(r.outputs.begin() + 1);
  auto encoded = EncodeV2InferResponse(r, BinaryOutputs{});
  ASSERT_TRUE(encoded.ok());
  EXPECT_FALSE(encoded->json_bytes.has_value());
  EXPECT_EQ(encoded->body, EncodeV2InferResponse(r).value());
}

TEST(BinaryTensorTest, AnOutputTheWorkerGotWrongIsStillInternal) {
  InferResponse r = Response();
  r.outputs[0].raw.pop_back();  // 23 bytes for [3,2] FP32
  BinaryOutputs binary;
  binary.all = true;
  auto encoded = EncodeV2InferResponse(r, binary);
  ASSERT_FALSE(encoded.ok());
  EXPECT_EQ(encoded.status().code(), StatusCode::kInternal);
  EXPECT_NE(encoded.status().message().find("model 'm' output 'y'"), std::string::npos);
}

}  // namespace
}  // namespace modelgate
