// Request validation: inputs against the model's declared ones (before
// anything is queued), requested outputs, and what a worker's answer may hold
// before it is encoded.
#include "server/request_validation.h"

#include <gtest/gtest.h>

#include <cstring>

namespace modelgate {
namespace {

Tensor Fp64(const std::string& name) {
  Tensor t;
  t.name = name;
  t.datatype = DataType::kFp64;
  t.shape = {1};
  t.raw.assign(8, '\0');
  return t;
}

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

TEST(ShapeOutputsTest, DeclaredOutputsComeInDeclaredOrderConvertedAndFiltered) {
  ModelConfig c = Undeclared();
  c.outputs = {TensorSpec{"p", DataType::kFp32, {-1}}, TensorSpec{"y", DataType::kFp64, {-1}}};
  Tensor y = Fp64("y");
  Tensor p = Fp64("p");
  const double half = 0.5;
  std::memcpy(p.raw.data(), &half, 8);
  std::vector<Tensor> outputs{y, p, Fp64("extra")};
  ASSERT_TRUE(ShapeOutputs(c, {}, outputs).ok());
  ASSERT_EQ(outputs.size(), 2u);
  EXPECT_EQ(outputs[0].name, "p");
  EXPECT_EQ(outputs[0].datatype, DataType::kFp32);
  ASSERT_EQ(outputs[0].raw.size(), 4u);
  float f = 0;
  std::memcpy(&f, outputs[0].raw.data(), 4);
  EXPECT_EQ(f, 0.5f);
  EXPECT_EQ(outputs[1].name, "y");

  std::vector<Tensor> only_y{y, p};
  ASSERT_TRUE(ShapeOutputs(c, {"y"}, only_y).ok());
  ASSERT_EQ(only_y.size(), 1u);
  EXPECT_EQ(only_y[0].name, "y");
}

TEST(ShapeOutputsTest, ADeclaredOutputTheModelDidNotReturnIsInternal) {
  ModelConfig c = Undeclared();
  c.outputs = {TensorSpec{"y", DataType::kFp64, {-1}}, TensorSpec{"p", DataType::kFp64, {-1}}};
  std::vector<Tensor> outputs{Fp64("y")};
  const Status s = ShapeOutputs(c, {}, outputs);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_EQ(s.message(), "model 'm' returned no output 'p'");
}

TEST(ShapeOutputsTest, AMalformedOutputIsInternalNamingTheModel) {
  Tensor bad = Fp64("y");
  bad.raw.resize(4);  // half an FP64
  std::vector<Tensor> outputs{bad};
  const Status s = ShapeOutputs(Undeclared(), {}, outputs);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(s.message().find("model 'm'"), std::string::npos) << s.message();
}

TEST(ShapeOutputsTest, AnOutputThatCannotBeConvertedIsAnError) {
  ModelConfig c = Undeclared();
  c.outputs = {TensorSpec{"y", DataType::kInt8, {-1}}};
  Tensor y = Fp64("y");
  const double big = 1000;
  std::memcpy(y.raw.data(), &big, 8);
  std::vector<Tensor> outputs{y};
  EXPECT_FALSE(ShapeOutputs(c, {}, outputs).ok());
}

TEST(ShapeOutputsTest, TwoOutputsOfOneNameAreInternalNamingTheOutput) {
  for (const auto& requested : {std::vector<std::string>{}, std::vector<std::string>{"y"}}) {
    std::vector<Tensor> outputs{Fp64("y"), Fp64("y")};
    Status s = ShapeOutputs(Undeclared(), requested, outputs);
    EXPECT_EQ(s.code(), StatusCode::kInternal);
    EXPECT_EQ(s.message(), "model 'm' returned output 'y' twice");
  }
  ModelConfig declared = Undeclared();
  declared.outputs.push_back(TensorSpec{"y", DataType::kFp64, {-1}});
  std::vector<Tensor> outputs{Fp64("y"), Fp64("y")};
  EXPECT_EQ(ShapeOutputs(declared, {}, outputs).code(), StatusCode::kInternal);
}

TEST(ShapeOutputsTest, RequestedOutputAnUndeclaringModelDidNotReturnIsInvalidArgument) {
  std::vector<Tensor> outputs{Fp64("y"), Fp64("pid")};
  Status s = ShapeOutputs(Undeclared(), {"y", "zzz"}, outputs);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "unknown output 'zzz': model 'm' returned y, pid");

  std::vector<Tensor> none;
  s = ShapeOutputs(Undeclared(), {"zzz"}, none);
  EXPECT_EQ(s.message(), "unknown output 'zzz': model 'm' returned no outputs");
}

TEST(ShapeOutputsTest, RequestedOutputsOfAnUndeclaringModelAreKept) {
  std::vector<Tensor> outputs{Fp64("y"), Fp64("pid")};
  ASSERT_TRUE(ShapeOutputs(Undeclared(), {"pid"}, outputs).ok());
  ASSERT_EQ(outputs.size(), 1u);
  EXPECT_EQ(outputs[0].name, "pid");
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
