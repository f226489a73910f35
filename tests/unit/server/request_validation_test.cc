// Request validation: inputs against the model's declared ones (before
// anything is queued) and requested outputs (answers: output_contract_test).
#include "server/request_validation.h"

#include <gtest/gtest.h>

#include <cstring>

namespace modelgate {
namespace {

ModelConfig Undeclared() {
  ModelConfig c;
  c.name = "m";
  return c;
}

Tensor Fp64Rows(const std::string& name, std::vector<int64_t> shape) {
  Tensor t;
  t.name = name;
  t.datatype = DataType::kFp64;
  t.shape = shape;
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  t.raw.assign(static_cast<size_t>(n) * 8, '\0');
  return t;
}

// model 'm' takes a: FP64 [-1, 2] and b: FP64 [-1].
ModelConfig TwoInputs() {
  ModelConfig c = Undeclared();
  c.inputs = {TensorSpec{"a", DataType::kFp64, {-1, 2}}, TensorSpec{"b", DataType::kFp64, {-1}}};
  return c;
}

void ExpectInvalid(const Status& s, const std::string& message) {
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.message();
  EXPECT_EQ(s.message(), message);
}

TEST(ValidateInputsTest, DeclaredInputsInAnyOrderPass) {
  EXPECT_TRUE(ValidateInputs(TwoInputs(), {Fp64Rows("b", {3}), Fp64Rows("a", {5, 2})}).ok());
}

TEST(ValidateInputsTest, EachMismatchNamesTheInputAndWhatTheModelDeclares) {
  const ModelConfig c = TwoInputs();
  ExpectInvalid(ValidateInputs(c, {Fp64Rows("a", {1, 2}), Fp64Rows("a", {1, 2})}),
                "input 'a' given twice");
  ExpectInvalid(ValidateInputs(c, {Fp64Rows("zz", {1})}),
                "unknown input 'zz': model 'm' takes a, b");
  ExpectInvalid(ValidateInputs(c, {Fp64Rows("a", {1, 2})}),
                "missing input 'b': model 'm' takes a, b");
  Tensor i32 = Fp64Rows("b", {2});
  i32.datatype = DataType::kInt32;
  i32.raw.resize(8);
  ExpectInvalid(ValidateInputs(c, {Fp64Rows("a", {1, 2}), i32}),
                "input 'b': datatype INT32 does not match the FP64 that model 'm' declares");
  ExpectInvalid(ValidateInputs(c, {Fp64Rows("a", {1, 3}), Fp64Rows("b", {1})}),
                "input 'a': shape [1,3] does not match [-1,2] that model 'm' declares");
  ExpectInvalid(ValidateInputs(c, {Fp64Rows("a", {2}), Fp64Rows("b", {1})}),
                "input 'a': shape [2] does not match [-1,2] that model 'm' declares");
}

TEST(ValidateInputsTest, PayloadIsCheckedAgainstTheShape) {
  Tensor shortish = Fp64Rows("b", {3});
  shortish.raw.resize(16);  // two elements for a shape of three
  const Status s = ValidateInputs(TwoInputs(), {Fp64Rows("a", {1, 2}), shortish});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("input 'b'"), std::string::npos) << s.message();
}

TEST(ValidateInputsTest, DataFrameColumnsMustHaveEqualLength) {
  ModelConfig c = Undeclared();
  c.dataframe = true;
  c.inputs = {TensorSpec{"wt", DataType::kFp64, {-1}}, TensorSpec{"hp", DataType::kFp64, {-1}}};
  EXPECT_TRUE(ValidateInputs(c, {Fp64Rows("wt", {3}), Fp64Rows("hp", {3})}).ok());
  ExpectInvalid(ValidateInputs(c, {Fp64Rows("wt", {3}), Fp64Rows("hp", {2})}),
                "input 'hp' has 2 rows but 'wt' has 3; data-frame columns must have equal length");
}

TEST(ValidateRequestedOutputsTest, OnlyDeclaredOutputsMayBeRequested) {
  EXPECT_TRUE(ValidateRequestedOutputs(Undeclared(), {"anything"}).ok());
  ModelConfig c = Undeclared();
  c.outputs = {TensorSpec{"y", DataType::kFp64, {-1}}, TensorSpec{"p", DataType::kFp64, {-1}}};
  EXPECT_TRUE(ValidateRequestedOutputs(c, {"p", "y"}).ok());
  EXPECT_TRUE(ValidateRequestedOutputs(c, {}).ok());
  ExpectInvalid(ValidateRequestedOutputs(c, {"y", "zzz"}),
                "unknown output 'zzz': model 'm' has y, p");
}

TEST(ValidateInputsTest, AnOptionalInputMayBeOmittedARequiredOneMayNot) {
  ModelConfig c = TwoInputs();
  c.inputs[1].optional = true;
  EXPECT_TRUE(ValidateInputs(c, {Fp64Rows("a", {1, 2})}).ok());
  EXPECT_TRUE(ValidateInputs(c, {Fp64Rows("a", {1, 2}), Fp64Rows("b", {1})}).ok());
  // Present, it is checked like any other input.
  ExpectInvalid(ValidateInputs(c, {Fp64Rows("a", {1, 2}), Fp64Rows("b", {1, 2})}),
                "input 'b': shape [1,2] does not match [-1] that model 'm' declares");
  ExpectInvalid(ValidateInputs(c, {Fp64Rows("b", {1})}), "missing input 'a': model 'm' takes a, b");
}

}  // namespace
}  // namespace modelgate

namespace modelgate {
namespace {

Tensor Strings(const std::string& name, std::vector<std::string> values) {
  Tensor t;
  t.name = name;
  t.datatype = DataType::kBytes;
  t.shape = {static_cast<int64_t>(values.size())};
  t.strings = std::move(values);
  return t;
}

ModelConfig Species(std::vector<std::string> levels) {
  ModelConfig c;
  c.name = "m";
  TensorSpec s;
  s.name = "species";
  s.datatype = DataType::kBytes;
  s.shape = {-1};
  s.levels = std::move(levels);
  c.inputs = {s};
  return c;
}

TEST(RequestValidationTest, DeclaredLevelsAreTheOnlyValuesAccepted) {
  const ModelConfig c = Species({"setosa", "versicolor", "virginica"});
  EXPECT_TRUE(ValidateInputs(c, {Strings("species", {"virginica", "setosa"})}).ok());
  Status s = ValidateInputs(c, {Strings("species", {"setosa", "virginca"})});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "input 'species': value 'virginca' is not one of its levels: setosa, versicolor, "
            "virginica");
}

TEST(RequestValidationTest, LevelErrorsCutTheValueAndTheLevelList) {
  std::vector<std::string> many;
  for (int i = 0; i < 50; ++i) many.push_back("l" + std::to_string(i));
  const ModelConfig c = Species(many);
  Status s = ValidateInputs(c, {Strings("species", {std::string(1000, 'v') + "\n"})});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_LT(s.message().size(), 400u) << s.message();
  EXPECT_NE(s.message().find("value '" + std::string(64, 'v') + "\u2026'"), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("l0, l1"), std::string::npos);
  EXPECT_NE(s.message().find("l19, ... (50 levels)"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("l20"), std::string::npos);
  // Bytes that are not text are escaped, never copied into the message.
  Status b = ValidateInputs(c, {Strings("species", {std::string("\xff\x01", 2)})});
  EXPECT_NE(b.message().find("value '\\xff\\x01'"), std::string::npos) << b.message();
}

}  // namespace
}  // namespace modelgate
