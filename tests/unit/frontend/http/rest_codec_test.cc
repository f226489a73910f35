#include "frontend/http/rest_codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

namespace modelgate {
namespace {

// The codec's clock argument: any fixed time (deadlines are checked against it).
const SteadyTime kNow = SteadyTime{} + std::chrono::hours(1);
StatusOr<InferRequest> ParseV2(std::string_view body) { return ParseV2InferRequest(body, kNow); }

template <typename T>
std::vector<T> ValuesOf(const Tensor& t) {
  std::vector<T> v(t.raw.size() / sizeof(T));
  std::memcpy(v.data(), t.raw.data(), t.raw.size());
  return v;
}

TEST(RestCodecTest, ParsesFlatAndNestedDataIdOutputsAndTimeout) {
  auto r = ParseV2(R"({"id": "r1", "parameters": {"timeout": 1500000},
    "inputs": [{"name": "f", "datatype": "FP64", "shape": [2, 2], "data": [[1, 2], [3, 4.5]]},
               {"name": "n", "datatype": "INT32", "shape": [3], "data": [1, -2, 3.0]}],
    "outputs": [{"name": "label"}]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->id, "r1");
  EXPECT_EQ(r->deadline, kNow + std::chrono::microseconds(1500000));
  EXPECT_EQ(r->requested_outputs, std::vector<std::string>{"label"});
  EXPECT_EQ(ValuesOf<double>(r->inputs[0]), (std::vector<double>{1, 2, 3, 4.5}));
  EXPECT_EQ(ValuesOf<int32_t>(r->inputs[1]), (std::vector<int32_t>{1, -2, 3}));
}

TEST(RestCodecTest, ErrorsNameTheInputAndTheProblem) {
  struct Case {
    const char* body;
    const char* fragment;
  } cases[] = {
      {R"({"inputs": [)", "malformed JSON"},
      {R"([1, 2])", "must be a JSON object"},
      {R"({"inputs": [{"name": "x", "datatype": "FP64", "shape": [2], "data": [1]}]})",
       "input 'x': shape [2] needs 2 elements, data has 1"},
      {R"({"inputs": [{"name": "x", "datatype": "FP64", "shape": [1], "data": ["a"]}]})",
       "input 'x': FP64 data must be numbers"},
      {R"({"inputs": [{"name": "x", "datatype": "INT8", "shape": [1], "data": [300]}]})",
       "input 'x': 300 is out of range for INT8"},
      {R"({"inputs": [{"name": "x", "datatype": "INT32", "shape": [1], "data": [1.5]}]})",
       "input 'x': INT32 data must be integers"},
      {R"({"inputs": [{"name": "x", "datatype": "UINT8", "shape": [1], "data": [-1]}]})",
       "out of range for UINT8"},
      {R"({"inputs": [{"name": "x", "datatype": "FLOAT", "shape": [1], "data": [1]}]})",
       "input 'x': unknown datatype"},
      {R"({"inputs": [{"name": "x", "datatype": "BOOL", "shape": [1], "data": [1]}]})",
       "BOOL data must be true or false"},
      {R"({"inputs": [{"name": "x", "datatype": "FP64", "shape": [-1], "data": []}]})",
       "non-negative integers"},
      {R"({"parameters": {"timeout": "soon"}, "inputs": []})", "parameter 'timeout'"},
  };
  for (const auto& c : cases) {
    auto r = ParseV2(c.body);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.body;
    EXPECT_NE(r.status().message().find(c.fragment), std::string::npos)
        << c.body << " -> " << r.status().message();
  }
}

ModelConfig TwoColumnModel() {
  ModelConfig c;
  c.name = "m";
  c.inputs = {{"wt", DataType::kFp64, {-1}}, {"hp", DataType::kFp64, {-1}}};
  return c;
}

TEST(RestCodecTest, V1RowsAsObjectsOrArraysBecomeColumns) {
  for (const char* body : {R"({"instances": [{"wt": 1, "hp": 10}, {"hp": 20, "wt": 2}]})",
                           R"({"instances": [[1, 10], [2, 20]]})"}) {
    auto r = ParseV1PredictRequest(body, TwoColumnModel());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->inputs[0].shape, std::vector<int64_t>{2});
    EXPECT_EQ(ValuesOf<double>(r->inputs[0]), (std::vector<double>{1, 2}));
    EXPECT_EQ(ValuesOf<double>(r->inputs[1]), (std::vector<double>{10, 20}));
  }
  auto bad =
      ParseV1PredictRequest(R"({"instances": [{"wt": 1, "hp": 2, "zz": 3}]})", TwoColumnModel());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("instances[0]: unknown input 'zz'"), std::string::npos);
}

TEST(RestCodecTest, V1PredictionsAreRowsOfEachOutput) {
  InferResponse resp;
  Tensor label;
  label.name = "label";
  label.datatype = DataType::kInt64;
  label.shape = {2};
  int64_t l[2] = {0, 2};
  label.raw.assign(reinterpret_cast<char*>(l), sizeof l);
  Tensor probs;
  probs.name = "p";
  probs.datatype = DataType::kFp64;
  probs.shape = {2, 2};
  double p[4] = {0.9, 0.1, 0.2, 0.8};
  probs.raw.assign(reinterpret_cast<char*>(p), sizeof p);
  resp.outputs = {label, probs};
  auto body = EncodeV1PredictResponse(resp);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(nlohmann::json::parse(*body),
            nlohmann::json::parse(R"({"predictions": [{"label": 0, "p": [0.9, 0.1]},
                                                      {"label": 2, "p": [0.2, 0.8]}]})"));
}

}  // namespace
}  // namespace modelgate

namespace modelgate {
namespace {

TEST(RestCodecTest, V2ResponseIsValidJsonWithExactNumbersAndEscapes) {
  InferResponse resp;
  resp.model = "m";
  resp.version = "1";
  resp.id = "id \"quoted\"\n";
  Tensor p;
  p.name = "prob";
  p.datatype = DataType::kFp64;
  p.shape = {4};
  double v[4] = {0.8423355365169382, -1e-300, 3.0, std::nan("")};
  p.raw.assign(reinterpret_cast<char*>(v), sizeof v);
  Tensor s;
  s.name = "label";
  s.datatype = DataType::kBytes;
  s.shape = {2};
  s.strings = {"a\tb", std::string("\x01", 1)};
  Tensor b;
  b.name = "flag";
  b.datatype = DataType::kBool;
  b.shape = {1};
  b.raw = std::string(1, '\1');
  resp.outputs = {p, s, b};
  auto body = EncodeV2InferResponse(resp);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  const auto j = nlohmann::json::parse(*body);
  EXPECT_EQ(j["id"], "id \"quoted\"\n");
  EXPECT_EQ(j["outputs"][0]["shape"], nlohmann::json::array({4}));
  EXPECT_EQ(j["outputs"][0]["data"][0].get<double>(), 0.8423355365169382);  // round-trips exactly
  EXPECT_EQ(j["outputs"][0]["data"][1].get<double>(), -1e-300);
  EXPECT_EQ(j["outputs"][0]["data"][3], "NaN");  // JSON has no NaN number: the README rule
  EXPECT_EQ(j["outputs"][1]["data"], nlohmann::json::array({"a\tb", "\x01"}));
  EXPECT_EQ(j["outputs"][2]["data"], nlohmann::json::array({true}));
}

}  // namespace
}  // namespace modelgate

namespace modelgate {
namespace {

TEST(RestCodecTest, ModelParametersAreCarriedAndDaemonKeysStripped) {
  auto r = ParseV2(R"({"parameters": {"timeout": 5000, "binary_data_output": false,
      "priority": 1, "sequence_id": 7, "alternative": "less", "window": 5, "big": 9223372036854775807,
      "scale": 0.5, "prob": true, "neg": -3},
    "inputs": [{"name": "x", "datatype": "FP64", "shape": [1], "data": [1]}]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Parameters expected = {{"alternative", std::string("less")},
                               {"big", int64_t{9223372036854775807}},
                               {"neg", int64_t{-3}},
                               {"prob", true},
                               {"scale", 0.5},
                               {"window", int64_t{5}}};
  EXPECT_EQ(r->parameters, expected);
  auto none =
      ParseV2(R"({"inputs": [{"name": "x", "datatype": "FP64", "shape": [1], "data": [1]}]})");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->parameters.empty());
}

TEST(RestCodecTest, BadModelParametersAreRejectedNamingTheKey) {
  const std::string input =
      R"("inputs": [{"name": "x", "datatype": "FP64", "shape": [1], "data": [1]}])";
  std::string many;
  for (size_t i = 0; i <= kMaxParameters; ++i) {
    many += (i ? ", " : "") + std::string("\"p") + std::to_string(1000 + i) + "\": 1";
  }
  struct Case {
    std::string params;
    std::string fragment;
  } cases[] = {
      {R"({"list": [1, 2]})", "request parameter 'list' must be a boolean, a number or a string"},
      {R"({"obj": {}})", "request parameter 'obj' must be a boolean"},
      {R"({"nothing": null})", "request parameter 'nothing' must be a boolean"},
      {R"({"huge": 18446744073709551615})", "'huge': 18446744073709551615 does not fit"},
      {R"({"a\u0001": 1})", "request parameter 'a\\x01': the name must be UTF-8 without control"},
      {"{\"" + std::string(200, 'k') + "\": 1}", "the name has 200 bytes; at most 128"},
      {"{\"s\": \"" + std::string(kMaxParameterValueBytes + 1, 'v') + "\"}",
       "request parameter 's': the value has 65537 bytes"},
      {"{" + many + "}", "more than 64 parameters"},
  };
  for (const auto& c : cases) {
    auto r = ParseV2("{\"parameters\": " + c.params + ", " + input + "}");
    ASSERT_FALSE(r.ok()) << c.fragment;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.fragment), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace modelgate
