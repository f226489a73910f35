// The REST codecs against hostile requests and malformed worker outputs
// (issue 10): every case here crashed, wrapped or answered wrongly before.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

#include "common/deadline.h"
#include "frontend/http/rest_codec.h"

namespace modelgate {
namespace {

// The codec's clock argument: any fixed time (deadlines are checked against it).
const SteadyTime kNow = SteadyTime{} + std::chrono::hours(1);
StatusOr<InferRequest> ParseV2(std::string_view body) { return ParseV2InferRequest(body, kNow); }

std::string Nested(size_t depth, const std::string& inner) {
  return std::string(depth, '[') + inner + std::string(depth, ']');
}

void ExpectInvalid(const StatusOr<InferRequest>& r, const std::string& fragment) {
  ASSERT_FALSE(r.ok()) << fragment;
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().message();
  EXPECT_NE(r.status().message().find(fragment), std::string::npos) << r.status().message();
}

TEST(RestCodecLimitsTest, DeepNestingIsRejectedBeforeParsing) {
  const std::string deep = Nested(100000, "1");
  ExpectInvalid(ParseV2(R"({"inputs": [{"name": "x", "datatype": "FP64",
      "shape": [1], "data": )" +
                        deep + "}]}"),
                "nested deeper than 64 levels");
  ExpectInvalid(ParseV2(R"({"inputs": [{"name": "x", "datatype": "FP64",
      "shape": )" + deep +
                        R"(, "data": [1]}]})"),
                "nested deeper than 64 levels");
  ModelConfig c;
  c.name = "m";
  c.inputs = {{"x", DataType::kFp64, {-1}}};
  ExpectInvalid(ParseV1PredictRequest(R"({"instances": )" + deep + "}", c),
                "nested deeper than 64 levels");
  // Brackets inside strings do not count; 60 levels of data are fine.
  auto ok = ParseV2(R"({"id": "[[[[", "inputs": [{"name": "x", "datatype": "FP64",
      "shape": [1], "data": )" +
                    Nested(60, "1") + "}]}");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
}

TEST(RestCodecLimitsTest, TrailingBytesAfterTheDocumentAre400) {
  const std::string valid =
      R"({"inputs": [{"name": "x", "datatype": "FP64", "shape": [1], "data": [1]}]})";
  ASSERT_TRUE(ParseV2(valid + " \r\n\t").ok());
  ExpectInvalid(ParseV2(valid + std::string("\0garbage", 8)), "NUL byte at offset");
  const std::string at = "at byte " + std::to_string(valid.size());
  ExpectInvalid(ParseV2(valid + "garbage"),
                "malformed JSON: unexpected text after the end of the JSON document " + at);
  ExpectInvalid(ParseV2(valid + "{}"), "after the end of the JSON document " + at);
  ExpectInvalid(ParseV2(valid + " x"),
                "after the end of the JSON document at byte " + std::to_string(valid.size() + 1));
  // Inside the document the offset is named too, and the body is not echoed.
  auto bad = ParseV2(R"({"inputs": [}secret)");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("error at byte 12"), std::string::npos)
      << bad.status().message();
  EXPECT_EQ(bad.status().message().find("secret"), std::string::npos);
}

// nlohmann reports a number too large for a double as out_of_range, not
// parse_error: it must be a 400, never an exception out of the handler.
TEST(RestCodecLimitsTest, NumberOverflowIs400NotAnException) {
  ExpectInvalid(ParseV2(R"({"inputs": [{"name": "x", "datatype": "FP64", "shape": [1],
                            "data": [1e400]}]})"),
                "malformed JSON: a number in the request body is out of range");
  ExpectInvalid(ParseV2(R"({"id": -1e99999, "inputs": []})"), "out of range");
  auto load = ParseRepositoryLoadRequest(R"({"parameters": {"config": 1e400}})");
  ASSERT_FALSE(load.ok());
  EXPECT_NE(load.status().message().find("out of range"), std::string::npos)
      << load.status().message();
}

TEST(RestCodecLimitsTest, ShapesAreCheckedBeforeData) {
  ExpectInvalid(ParseV2(R"({"inputs": [{"name": "x", "datatype": "FP64",
      "shape": [4611686018427387904, 4], "data": []}]})"),
                "input 'x': shape [4611686018427387904,4] declares more elements");
  ExpectInvalid(ParseV2(R"({"inputs": [{"name": "x", "datatype": "FP64",
      "shape": [0, 4], "data": []}]})"),
                "input 'x': shape [0,4] has no elements");
  ExpectInvalid(ParseV2(R"({"inputs": [{"name": "x", "datatype": "FP64",
      "shape": [18446744073709551615], "data": [1]}]})"),
                "non-negative integers");
  std::string dims = "1";
  for (int i = 0; i < 199999; ++i) dims += ",1";
  auto r = ParseV2(R"({"inputs": [{"name": "x", "datatype": "FP64", "shape": [)" + dims +
                   R"(], "data": [1]}]})");
  ExpectInvalid(r, "input 'x': shape has 200000 dimensions; at most 16 are allowed");
  EXPECT_LT(r.status().message().size(), 200u);
}

TEST(RestCodecLimitsTest, TimeoutSaturatesAndRejectsNonPositive) {
  for (const char* t :
       {"9223372036854775807", "10000000000000000", "1e16", "18446744073709551615"}) {
    auto r = ParseV2(std::string(R"({"parameters": {"timeout": )") + t + R"(}, "inputs": []})");
    ASSERT_TRUE(r.ok()) << t << ": " << r.status().ToString();
    ASSERT_TRUE(r->deadline.has_value());
    EXPECT_EQ(*r->deadline, kNow + kMaxClientTimeout) << t;
  }
  for (const char* t : {"0", "-5", "1.5", "\"soon\"", "-9223372036854775808", "null"}) {
    ExpectInvalid(
        ParseV2(std::string(R"({"parameters": {"timeout": )") + t + R"(}, "inputs": []})"),
        "parameter 'timeout' must be a positive integer");
  }
}

TEST(RestCodecLimitsTest, BodyIdFollowsTheRequestIdRule) {
  auto ok = ParseV2(R"({"id": "req-1", "inputs": []})");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->id, "req-1");
  for (const char* id : {R"("x\ny")", R"("a\tb")", R"("é")", R"("a b")"}) {
    ExpectInvalid(ParseV2(std::string(R"({"id": )") + id + R"(, "inputs": []})"),
                  "request id in body field 'id' must be 1 to 128 bytes");
  }
  ExpectInvalid(ParseV2(R"({"id": ")" + std::string(129, 'a') + R"(", "inputs": []})"),
                "request id in body field 'id'");
}

ModelConfig IrisLike() {
  ModelConfig c;
  c.name = "iris";
  c.inputs = {{"features", DataType::kFp64, {-1, 4}}};
  return c;
}

TEST(RestCodecLimitsTest, V1RowsMustHaveExactlyTheRowShape) {
  // 5 + 3 values used to be re-cut into two rows of 4.
  ExpectInvalid(ParseV1PredictRequest(R"({"instances": [[1,2,3,4,5], [1,2,3]]})", IrisLike()),
                "instances[0]: input 'features' has a row of shape [5], expected [4] per row");
  ExpectInvalid(ParseV1PredictRequest(R"({"instances": [[1,2,3,4], [1,2,3]]})", IrisLike()),
                "instances[1]: input 'features' has a row of shape [3]");
  ExpectInvalid(ParseV1PredictRequest(R"({"instances": [[[1,2],[3,4]]]})", IrisLike()),
                "instances[0]: input 'features' has a row of shape [2,2]");
  ExpectInvalid(ParseV1PredictRequest(R"({"instances": [[1,2,3,[4]]]})", IrisLike()),
                "instances[0]: input 'features' is ragged");
  ExpectInvalid(ParseV1PredictRequest(R"({"instances": []})", IrisLike()), "'instances' is empty");
  auto ok = ParseV1PredictRequest(R"({"instances": [[1,2,3,4], [5,6,7,8]]})", IrisLike());
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->inputs[0].shape, (std::vector<int64_t>{2, 4}));

  // A wildcard inner dim is fixed by the first row; later rows must agree.
  ModelConfig any;
  any.name = "any";
  any.inputs = {{"v", DataType::kFp64, {-1, -1}}};
  ExpectInvalid(ParseV1PredictRequest(R"({"instances": [[1,2], [1,2,3]]})", any),
                "instances[1]: input 'v' has a row of shape [3], expected [2]");
  auto wild = ParseV1PredictRequest(R"({"instances": [[1,2,3], [4,5,6]]})", any);
  ASSERT_TRUE(wild.ok()) << wild.status().ToString();
  EXPECT_EQ(wild->inputs[0].shape, (std::vector<int64_t>{2, 3}));
  ExpectInvalid(ParseV1PredictRequest(R"({"instances": [[], []]})", any), "has no elements");

  // Columns: a 1-D input takes one scalar per row.
  ModelConfig cols;
  cols.name = "cols";
  cols.inputs = {{"wt", DataType::kFp64, {-1}}, {"hp", DataType::kFp64, {-1}}};
  ExpectInvalid(ParseV1PredictRequest(R"({"instances": [{"wt": [1, 2], "hp": 3}]})", cols),
                "instances[0]: input 'wt' has a row of shape [2], expected []");
}

Tensor Output(const std::string& name, DataType type, std::vector<int64_t> shape, std::string raw) {
  Tensor t;
  t.name = name;
  t.datatype = type;
  t.shape = std::move(shape);
  t.raw = std::move(raw);
  return t;
}

InferResponse Response(std::vector<Tensor> outputs) {
  InferResponse r;
  r.model = "m";
  r.version = "1";
  r.id = "r";
  r.outputs = std::move(outputs);
  return r;
}

void ExpectInternal(const StatusOr<std::string>& body, const std::string& fragment) {
  ASSERT_FALSE(body.ok()) << fragment;
  EXPECT_EQ(body.status().code(), StatusCode::kInternal) << body.status().message();
  EXPECT_NE(body.status().message().find(fragment), std::string::npos) << body.status().message();
}

TEST(RestCodecLimitsTest, MalformedWorkerOutputsAreInternalNotACrash) {
  constexpr int64_t k2Pow62 = int64_t{1} << 62;
  for (DataType type : {DataType::kFp64, DataType::kBytes}) {
    auto resp = Response({Output("y", type, {k2Pow62, 4}, "")});
    ExpectInternal(EncodeV1PredictResponse(resp),
                   "model 'm' output 'y': shape [4611686018427387904,4]");
    ExpectInternal(EncodeV2InferResponse(resp), "model 'm' output 'y'");
  }
  ExpectInternal(
      EncodeV1PredictResponse(Response({Output("y", DataType::kFp64, {20000000, 0}, "")})),
      "nests 20000000 rows");
  ExpectInternal(EncodeV1PredictResponse(Response({Output("y", DataType::kFp64, {3}, "")})),
                 "needs 3 elements");
  // A small empty output is still encoded: five empty rows.
  auto empty = EncodeV1PredictResponse(Response({Output("y", DataType::kFp64, {5, 0}, "")}));
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(*empty, R"({"predictions":[[],[],[],[],[]]})");
}

TEST(RestCodecLimitsTest, NonUtf8BytesOutputIsAnErrorNamingTheElement) {
  Tensor s;
  s.name = "label";
  s.datatype = DataType::kBytes;
  s.shape = {2};
  s.strings = {"fine", "bad \xff\xfe"};
  for (const auto& body :
       {EncodeV2InferResponse(Response({s})), EncodeV1PredictResponse(Response({s}))}) {
    ExpectInternal(body, "model 'm' output 'label' element 1 is not valid UTF-8");
    EXPECT_NE(body.status().message().find("gRPC"), std::string::npos);
  }
  s.strings = {"fine", "é \t\n\x01"};
  auto ok = EncodeV2InferResponse(Response({s}));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(nlohmann::json::parse(*ok)["outputs"][0]["data"][1], "é \t\n\x01");
}

TEST(RestCodecLimitsTest, HalfPrecisionOutputsAreWidenedNotDropped) {
  // FP16 1.5 = 0x3e00, -2 = 0xc000; BF16 1.5 = 0x3fc0, 65504 (max half) = 0x7bff.
  const uint16_t half[3] = {0x3e00, 0xc000, 0x7bff};
  const uint16_t bf[2] = {0x3fc0, 0x0000};
  auto resp = Response(
      {Output("h", DataType::kFp16, {3}, std::string(reinterpret_cast<const char*>(half), 6)),
       Output("b", DataType::kBf16, {2}, std::string(reinterpret_cast<const char*>(bf), 4))});
  auto v2 = EncodeV2InferResponse(resp);
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  const auto j = nlohmann::json::parse(*v2);
  EXPECT_EQ(j["outputs"][0]["data"], nlohmann::json::parse("[1.5, -2, 65504]"));
  EXPECT_EQ(j["outputs"][1]["data"], nlohmann::json::parse("[1.5, 0]"));
}

TEST(RestCodecLimitsTest, HalfPrecisionJsonInputsAreRefusedByName) {
  for (const char* type : {"FP16", "BF16"}) {
    auto r = ParseV2(std::string(R"({"inputs": [{"name": "x", "shape": [1], "datatype": ")") +
                     type + R"(", "data": [1.5]}]})");
    ASSERT_FALSE(r.ok()) << type;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("input 'x': datatype " + std::string(type) +
                                        " is not supported in JSON"),
              std::string::npos)
        << r.status().message();
  }
}

TEST(RestCodecLimitsTest, NamesAndIdsAreAlwaysValidJson) {
  auto resp = Response({Output("y\"\n\xff", DataType::kFp64, {1}, std::string(8, '\0'))});
  resp.model = "m\x01\xc3";
  auto body = EncodeV2InferResponse(resp);
  ASSERT_TRUE(body.ok());
  const auto j = nlohmann::json::parse(*body);  // throws on invalid JSON
  EXPECT_EQ(j["model_name"], "m\x01\xef\xbf\xbd");
  EXPECT_EQ(j["outputs"][0]["name"], "y\"\n\xef\xbf\xbd");
}

}  // namespace
}  // namespace modelgate
