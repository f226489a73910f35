// TF-Serving's columnar V1 form through ParseV1PredictRequest and the
// columnar answer.
#include "frontend/http/rest_v1_columnar.h"

#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "frontend/http/rest_codec.h"

namespace modelgate {
namespace {

using nlohmann::json;

ModelConfig Model(std::vector<TensorSpec> inputs) {
  ModelConfig c;
  c.name = "m";
  c.inputs = std::move(inputs);
  return c;
}

std::vector<double> Doubles(const Tensor& t) {
  std::vector<double> v(t.raw.size() / sizeof(double));
  std::memcpy(v.data(), t.raw.data(), t.raw.size());
  return v;
}

TEST(RestV1ColumnarTest, NamedInputsKeepTheirOwnShapes) {
  const auto config = Model({{"wt", DataType::kFp64, {-1}},
                             {"m", DataType::kFp64, {-1, 2}},
                             {"tag", DataType::kBytes, {-1}}});
  bool columnar = false;
  auto r = ParseV1PredictRequest(
      R"({"inputs": {"m": [[1, 2], [3, 4], [5, 6]], "wt": [1.5, 2.5], "tag": ["a", "b"]}})", config,
      &columnar);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(columnar);
  ASSERT_EQ(r->inputs.size(), 3u);  // in declared order
  EXPECT_EQ(r->inputs[0].name, "wt");
  EXPECT_EQ(r->inputs[0].shape, std::vector<int64_t>{2});
  EXPECT_EQ(Doubles(r->inputs[0]), (std::vector<double>{1.5, 2.5}));
  EXPECT_EQ(r->inputs[1].shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(Doubles(r->inputs[1]), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(r->inputs[2].strings, (std::vector<std::string>{"a", "b"}));
}

TEST(RestV1ColumnarTest, AnOptionalInputMayBeLeftOut) {
  auto config = Model({{"x", DataType::kFp64, {-1}}, {"w", DataType::kFp64, {-1}}});
  config.inputs[1].optional = true;
  auto r = ParseV1PredictRequest(R"({"inputs": {"x": [1, 2]}})", config, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->inputs.size(), 1u);
  EXPECT_EQ(r->inputs[0].name, "x");
  auto missing = ParseV1PredictRequest(R"({"inputs": {"w": [1, 2]}})", config, nullptr);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing input 'x'"), std::string::npos)
      << missing.status().message();
}

TEST(RestV1ColumnarTest, ABareTensorIsTheOnlyInput) {
  const auto one = Model({{"x", DataType::kFp64, {-1, 2}}});
  bool columnar = false;
  auto r = ParseV1PredictRequest(R"({"inputs": [[1, 2], [3, 4]]})", one, &columnar);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(columnar);
  EXPECT_EQ(r->inputs[0].name, "x");
  EXPECT_EQ(r->inputs[0].shape, (std::vector<int64_t>{2, 2}));
  // The row form still answers rows.
  columnar = false;
  ASSERT_TRUE(ParseV1PredictRequest(R"({"instances": [[1, 2]]})", one, &columnar).ok());
  EXPECT_FALSE(columnar);
}

TEST(RestV1ColumnarTest, ErrorsNameTheInput) {
  const auto two = Model({{"wt", DataType::kFp64, {-1}}, {"hp", DataType::kFp64, {-1}}});
  const struct {
    const char* body;
    const char* fragment;
  } cases[] = {
      {R"({"inputs": [1, 2]})", "the model has 2 inputs"},
      {R"({"inputs": {"wt": [1]}})", "'inputs': missing input 'hp'"},
      {R"({"inputs": {"wt": [1], "hp": [2], "zz": [3]}})", "'inputs': unknown input 'zz'"},
      {R"({"inputs": {"wt": [[1], [2, 3]], "hp": [2]}})", "input 'wt' is ragged"},
      {R"({"inputs": {"wt": ["a"], "hp": [2]}})", "'wt'"},
      {R"({"inputs": {"wt": [1], "hp": [2]}, "instances": [[1, 2]]})", "not both"},
  };
  for (const auto& c : cases) {
    auto r = ParseV1PredictRequest(c.body, two);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.fragment), std::string::npos)
        << c.body << " -> " << r.status().message();
  }
}

Tensor Fp64(std::string name, std::vector<int64_t> shape, std::vector<double> v) {
  Tensor t;
  t.name = std::move(name);
  t.datatype = DataType::kFp64;
  t.shape = std::move(shape);
  t.raw.assign(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(double));
  return t;
}

TEST(RestV1ColumnarTest, OutputsAreOneTensorOrAnObjectOfTensors) {
  InferResponse one;
  one.model = "m";
  one.outputs = {Fp64("p", {2, 2}, {0.5, 0.25, 1, 2})};
  auto body = EncodeV1ColumnarResponse(one);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(json::parse(*body), json::parse(R"({"outputs": [[0.5, 0.25], [1, 2]]})"));

  InferResponse two = one;
  two.outputs.push_back(Fp64("s", {}, {3}));
  body = EncodeV1ColumnarResponse(two);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(json::parse(*body),
            json::parse(R"({"outputs": {"p": [[0.5, 0.25], [1, 2]], "s": 3}})"));

  two.outputs[1].name = "p";
  body = EncodeV1ColumnarResponse(two);
  ASSERT_FALSE(body.ok());
  EXPECT_EQ(body.status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace modelgate
