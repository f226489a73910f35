// "examples" in config.json: each shape reaches ExampleRequest, expected data
// get the datatype their JSON holds, and each mistake is an error naming the
// file, the key path and what is wrong.
#include "config/example_keys.h"

#include <gtest/gtest.h>

#include <cstring>

#include "common/missing_value.h"
#include "config/config_bounds.h"
#include "modelgate/model_config.h"

namespace modelgate {
namespace {

// Inputs x (FP64 [-1]) and n (INT32 [2], optional); outputs y and label
// declared unless `declared_outputs` is false; plus `extra` keys.
StatusOr<ModelConfig> Parse(const std::string& extra, bool declared_outputs = true) {
  const std::string outputs =
      declared_outputs ? R"(, "outputs": [{"name": "y", "datatype": "FP64", "shape": [-1]},
                                          {"name": "label", "datatype": "BYTES", "shape": [-1]}])"
                       : "";
  const std::string text =
      R"({"backend": "python", "inputs": [{"name": "x", "datatype": "FP64", "shape": [-1]},
          {"name": "n", "datatype": "INT32", "shape": [2], "optional": true}])" +
      outputs + (extra.empty() ? "" : ", " + extra) + "}";
  return ParseModelConfig(text, "m/config.json", "m");
}

void ExpectError(const StatusOr<ModelConfig>& c, const std::string& key,
                 const std::string& reason) {
  ASSERT_FALSE(c.ok()) << key;
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  const std::string prefix = "m/config.json: key '" + key + "': ";
  EXPECT_EQ(c.status().message().rfind(prefix, 0), 0u) << c.status().message();
  EXPECT_NE(c.status().message().find(reason), std::string::npos) << c.status().message();
}

constexpr char kX[] = R"({"name": "x", "datatype": "FP64", "shape": [2], "data": [1, 2]})";

std::string Example(const std::string& outputs, const std::string& more = "") {
  return R"("examples": [{"inputs": [)" + std::string(kX) + R"(], "outputs": [)" + outputs + "]" +
         more + "}]";
}

TEST(ExampleKeysTest, NoExamplesByDefault) {
  auto c = Parse("");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->examples.empty());
}

TEST(ExampleKeysTest, InputsOutputsAndToleranceReachTheFields) {
  auto c =
      Parse(Example(R"({"name": "y", "data": [0.5, 1.5]}, {"name": "label", "data": ["a", "b"]})",
                    R"(, "tolerance": 0.01)"));
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->examples.size(), 1u);
  const ExampleRequest& e = c->examples[0];
  ASSERT_EQ(e.inputs.size(), 1u);
  EXPECT_EQ(e.inputs[0].name, "x");
  EXPECT_EQ(e.inputs[0].shape, (std::vector<int64_t>{2}));
  ASSERT_EQ(e.outputs.size(), 2u);
  EXPECT_EQ(e.outputs[0].name, "y");
  EXPECT_EQ(e.outputs[0].datatype, DataType::kFp64);
  EXPECT_EQ(e.outputs[0].HeldElements(), 2);
  EXPECT_EQ(e.outputs[1].datatype, DataType::kBytes);
  EXPECT_EQ(e.outputs[1].strings, (std::vector<std::string>{"a", "b"}));
  EXPECT_DOUBLE_EQ(e.tolerance, 0.01);
  c = Parse(Example(R"({"name": "y", "data": [1]})"));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_DOUBLE_EQ(c->examples[0].tolerance, ExampleRequest::kDefaultTolerance);
}

TEST(ExampleKeysTest, ExpectedDataGetTheDatatypeTheirJsonHolds) {
  auto expected = [](const std::string& data) {
    auto c = Parse(Example(R"({"name": "y", "data": )" + data + "}"), false);
    EXPECT_TRUE(c.ok()) << data << ": " << c.status().message();
    return c.ok() ? c->examples[0].outputs[0] : Tensor{};
  };
  EXPECT_EQ(expected("[1, 2, 3]").datatype, DataType::kInt64);
  EXPECT_EQ(expected("[1, 2.5]").datatype, DataType::kFp64);
  EXPECT_EQ(expected("[true, false]").datatype, DataType::kBool);
  EXPECT_EQ(expected(R"(["setosa"])").datatype, DataType::kBytes);
  EXPECT_EQ(expected("[18446744073709551615]").datatype, DataType::kFp64);  // beyond INT64
  const Tensor missing = expected(R"([1.5, null, "NaN", "Infinity"])");
  EXPECT_EQ(missing.datatype, DataType::kFp64);
  ASSERT_EQ(missing.HeldElements(), 4);
  double na = 0;
  std::memcpy(&na, missing.raw.data() + sizeof(double), sizeof na);
  EXPECT_TRUE(IsNa(na));
  EXPECT_EQ(expected("[[1, 2, 3], [4, 5, 6]]").shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(expected("[1, 2, 3]").shape, (std::vector<int64_t>{3}));
}

TEST(ExampleKeysTest, MistakesNameTheKeyPath) {
  ExpectError(Parse(R"("examples": {})"), "examples", "must be an array");
  ExpectError(Parse(R"("examples": [{"inputs": [)" + std::string(kX) + "]}]"),
              "examples[0].outputs", "is required");
  ExpectError(Parse(R"("examples": [{"outputs": [{"name": "y", "data": [1]}]}])"),
              "examples[0].inputs", "is required");
  ExpectError(Parse(Example("")), "examples[0].outputs", "non-empty array");
  ExpectError(Parse(Example(R"({"name": "y", "data": [1]})", R"(, "tol": 1)")), "examples[0].tol",
              "unknown key");
  ExpectError(Parse(Example(R"({"name": "y", "data": [1]})", R"(, "tolerance": -1)")),
              "examples[0].tolerance", "must be between 0 and 1");
  ExpectError(Parse(Example(R"({"name": "y", "data": [1]}, {"data": [2]})")),
              "examples[0].outputs[1].name", "is required");
  ExpectError(Parse(Example(R"({"name": "y", "data": [1]}, {"name": 3, "data": [2]})")),
              "examples[0].outputs[1].name", "must be a string");
  ExpectError(Parse(Example(R"({"name": "y", "data": [1]}, {"name": "y", "data": [2]})")),
              "examples[0].outputs[1].name", "given twice");
  ExpectError(Parse(Example(R"({"name": "y", "data": [1, "a"]})")), "examples[0].outputs[0].data",
              "mixes numbers, strings and booleans");
  ExpectError(Parse(Example(R"({"name": "y", "data": [true, 1]})")), "examples[0].outputs[0].data",
              "mixes");
  ExpectError(Parse(Example(R"({"name": "y", "data": [{"a": 1}]})")), "examples[0].outputs[0].data",
              "numbers, strings or booleans");
  ExpectError(Parse(Example(R"({"name": "y", "data": 1})")), "examples[0].outputs[0].data",
              "must be an array");
  ExpectError(Parse(Example(R"({"name": "y", "data": [[1, 2], [3]]})")),
              "examples[0].outputs[0].data", "ragged");
  ExpectError(Parse(Example(R"({"name": "z", "data": [1]})")), "examples[0].outputs[0].name",
              "'z' is not a declared output (outputs: y, label)");
}

TEST(ExampleKeysTest, InputsFollowTheDeclarationAsWarmupDoes) {
  ExpectError(Parse(R"("examples": [{"inputs": [{"name": "x", "datatype": "FP32", "shape": [1],
                "data": [1]}], "outputs": [{"name": "y", "data": [1]}]}])"),
              "examples[0].inputs[0].datatype", "does not match the declared FP64");
  ExpectError(Parse(R"("examples": [{"inputs": [{"name": "n", "datatype": "INT32", "shape": [2],
                "data": [1, 2]}], "outputs": [{"name": "y", "data": [1]}]}])"),
              "examples[0].inputs", "misses the declared input 'x'");
  ExpectError(Parse(R"("examples": [{"inputs": [{"name": "x", "datatype": "FP64", "shape": [2],
                "data": [1]}], "outputs": [{"name": "y", "data": [1]}]}])"),
              "examples[0].inputs[0].data", "");
}

TEST(ExampleKeysTest, AtMostTheLimit) {
  std::string many = R"("examples": [)";
  for (size_t i = 0; i <= config_limits::kMaxExamples; ++i) {
    many += (i ? ", " : "") + std::string(R"({"inputs": [)") + kX +
            R"(], "outputs": [{"name": "y", "data": [1]}]})";
  }
  ExpectError(Parse(many + "]"), "examples", "at most 64");
}

}  // namespace
}  // namespace modelgate
