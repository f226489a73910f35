#include "backend/process/hello_signature.h"

#include <gtest/gtest.h>

#include <string>

#include "common/tensor_validation.h"

namespace modelgate {
namespace {

using worker::v1::Hello;

void AddSpec(google::protobuf::RepeatedPtrField<worker::v1::TensorSpec>* to,
             const std::string& name, const std::string& datatype,
             std::vector<int64_t> shape = {-1}, std::vector<std::string> levels = {}) {
  auto* t = to->Add();
  t->set_name(name);
  t->set_datatype(datatype);
  for (int64_t d : shape) t->add_shape(d);
  for (const auto& l : levels) t->add_levels(l);
}

TensorSpec Spec(const std::string& name, DataType type, std::vector<int64_t> shape = {-1},
                std::vector<std::string> levels = {}) {
  TensorSpec t;
  t.name = name;
  t.datatype = type;
  t.shape = std::move(shape);
  t.levels = std::move(levels);
  return t;
}

void ExpectBad(const Hello& hello, const std::string& part) {
  auto s = DecodeHelloSignature(hello);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInternal);
  EXPECT_NE(s.status().message().find("the worker's Hello declares an invalid signature"),
            std::string::npos)
      << s.status().message();
  EXPECT_NE(s.status().message().find(part), std::string::npos) << s.status().message();
}

TEST(HelloSignatureTest, DecodesInputsOutputsLevelsAndSource) {
  Hello h;
  AddSpec(h.mutable_inputs(), "x", "FP64");
  AddSpec(h.mutable_inputs(), "species", "BYTES", {-1}, {"setosa", "virginica"});
  AddSpec(h.mutable_outputs(), "y", "FP32", {-1, 2});
  h.set_signature_source("the prototype data.frame in model.R");
  h.set_dataframe(true);
  auto s = DecodeHelloSignature(h);
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_EQ(s->inputs.size(), 2u);
  EXPECT_EQ(s->inputs[1].name, "species");
  EXPECT_EQ(s->inputs[1].datatype, DataType::kBytes);
  EXPECT_EQ(s->inputs[1].levels, (std::vector<std::string>{"setosa", "virginica"}));
  ASSERT_EQ(s->outputs.size(), 1u);
  EXPECT_EQ(s->outputs[0].shape, (std::vector<int64_t>{-1, 2}));
  EXPECT_EQ(s->source, "the prototype data.frame in model.R");
  EXPECT_TRUE(s->dataframe);
}

TEST(HelloSignatureTest, AnEmptyHelloDeclaresNothing) {
  auto s = DecodeHelloSignature(Hello());
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->inputs.empty());
  EXPECT_EQ(s->source, "the model's code");
}

TEST(HelloSignatureTest, RejectsWhatAWorkerMustNotSend) {
  Hello h;
  AddSpec(h.mutable_inputs(), "", "FP64");
  ExpectBad(h, "input 0 has no name");

  h.Clear();
  AddSpec(h.mutable_inputs(), std::string(kMaxSignatureNameBytes + 1, 'a'), "FP64");
  ExpectBad(h, "is not a name of at most 256 bytes");

  h.Clear();
  AddSpec(h.mutable_inputs(), "bad\nname", "FP64");
  ExpectBad(h, "input 0 name 'bad\\x0aname'");

  h.Clear();
  AddSpec(h.mutable_inputs(), "x", "FLOAT64");
  ExpectBad(h, "input 0 'x' has datatype 'FLOAT64', not a V2 datatype");

  h.Clear();
  AddSpec(h.mutable_inputs(), "x", "FP64", {});
  ExpectBad(h, "input 0 'x' has 0 dimensions");

  h.Clear();
  AddSpec(h.mutable_inputs(), "x", "FP64", std::vector<int64_t>(kMaxTensorRank + 1, 1));
  ExpectBad(h, "has 17 dimensions");

  h.Clear();
  AddSpec(h.mutable_inputs(), "x", "FP64", {-2});
  ExpectBad(h, "has dimension -2");

  h.Clear();
  AddSpec(h.mutable_inputs(), "x", "FP64");
  AddSpec(h.mutable_inputs(), "x", "FP64");
  ExpectBad(h, "input 'x' is declared twice");

  h.Clear();
  AddSpec(h.mutable_inputs(), "x", "FP64", {-1}, {"a"});
  ExpectBad(h, "input 0 'x' has levels, which only BYTES inputs may have");

  h.Clear();
  AddSpec(h.mutable_inputs(), "x", "BYTES");
  AddSpec(h.mutable_outputs(), "y", "BYTES", {-1}, {"a"});
  ExpectBad(h, "output 0 'y' has levels");

  h.Clear();
  AddSpec(h.mutable_inputs(), "s", "BYTES", {-1}, {"a", "a"});
  ExpectBad(h, "has level 'a' twice");

  h.Clear();
  AddSpec(h.mutable_inputs(), "s", "BYTES", {-1}, {std::string("\xff\xfe")});
  ExpectBad(h, "has level '\\xff\\xfe', not UTF-8 text");

  h.Clear();
  AddSpec(h.mutable_outputs(), "y", "FP64");
  ExpectBad(h, "outputs without inputs");

  h.Clear();
  AddSpec(h.mutable_inputs(), "x", "FP64");
  h.set_signature_source(std::string(kMaxSignatureSourceBytes + 1, 's'));
  ExpectBad(h, "its source");
}

TEST(HelloSignatureTest, CountsAreBoundedBeforeAnythingIsCopied) {
  Hello h;
  for (size_t i = 0; i <= kMaxSignatureTensors; ++i) {
    AddSpec(h.mutable_inputs(), "x" + std::to_string(i), "FP64");
  }
  ExpectBad(h, "1025 inputs (at most 1024)");

  h.Clear();
  std::vector<std::string> levels;
  for (size_t i = 0; i <= kMaxSignatureLevels; ++i) levels.push_back("l" + std::to_string(i));
  AddSpec(h.mutable_inputs(), "s", "BYTES", {-1}, levels);
  ExpectBad(h, "4097 levels (at most 4096)");
}

ModelSignature Config(std::vector<TensorSpec> inputs, std::vector<TensorSpec> outputs = {}) {
  return {std::move(inputs), std::move(outputs), false, "m/config.json"};
}

ModelSignature Code(std::vector<TensorSpec> inputs, std::vector<TensorSpec> outputs = {}) {
  return {std::move(inputs), std::move(outputs), true, "the prototype data.frame in model.R"};
}

TEST(MergeSignatureTest, CodeOnlyIsServedAsDeclared) {
  auto m =
      MergeSignature(Config({}), Code({Spec("s", DataType::kBytes, {-1}, {"a", "b"})}), "model.R");
  ASSERT_TRUE(m.ok()) << m.status().message();
  ASSERT_EQ(m->inputs.size(), 1u);
  EXPECT_EQ(m->inputs[0].levels, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(m->dataframe);
  EXPECT_EQ(m->source, "the prototype data.frame in model.R");
}

TEST(MergeSignatureTest, ConfigOnlyIsServedAsDeclared) {
  auto m = MergeSignature(Config({Spec("x", DataType::kFp64)}), ModelSignature{}, "model.py");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->inputs.size(), 1u);
  EXPECT_FALSE(m->dataframe);
}

TEST(MergeSignatureTest, NeitherDeclaringInputsNamesBothFiles) {
  auto m = MergeSignature(Config({}), ModelSignature{}, "model.py");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(m.status().message().find("m/config.json declares no \"inputs\" and model.py "
                                      "declares no signature"),
            std::string::npos)
      << m.status().message();
}

TEST(MergeSignatureTest, AgreeingDeclarationsKeepConfigEntriesWithCodeLevels) {
  TensorSpec opt = Spec("s", DataType::kBytes);
  opt.optional = true;
  auto m = MergeSignature(
      Config({Spec("x", DataType::kFp64), opt}),
      Code({Spec("s", DataType::kBytes, {-1}, {"a"}), Spec("x", DataType::kFp64)}), "model.R");
  ASSERT_TRUE(m.ok()) << m.status().message();
  ASSERT_EQ(m->inputs.size(), 2u);
  EXPECT_EQ(m->inputs[0].name, "x");  // config's order
  EXPECT_TRUE(m->inputs[1].optional);
  EXPECT_EQ(m->inputs[1].levels, std::vector<std::string>{"a"});
  EXPECT_EQ(m->source, "m/config.json");
}

TEST(MergeSignatureTest, DisagreementNamesTheEntryAndBothDeclarations) {
  auto type = MergeSignature(Config({Spec("x", DataType::kFp32)}),
                             Code({Spec("x", DataType::kFp64)}), "model.R");
  ASSERT_FALSE(type.ok());
  EXPECT_EQ(type.status().message(),
            "input 'x': m/config.json declares FP32 [-1] but the prototype data.frame in model.R "
            "declares FP64 [-1]");

  auto shape = MergeSignature(Config({Spec("x", DataType::kFp64, {-1, 1})}),
                              Code({Spec("x", DataType::kFp64)}), "model.R");
  ASSERT_FALSE(shape.ok());
  EXPECT_NE(shape.status().message().find("declares FP64 [-1,1] but"), std::string::npos)
      << shape.status().message();

  auto missing =
      MergeSignature(Config({Spec("x", DataType::kFp64), Spec("extra", DataType::kFp64)}),
                     Code({Spec("x", DataType::kFp64)}), "model.R");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(),
            "input 'extra' is declared in m/config.json (FP64 [-1]) but not in the prototype "
            "data.frame in model.R, which declares x");

  auto added =
      MergeSignature(Config({Spec("x", DataType::kFp64)}),
                     Code({Spec("x", DataType::kFp64), Spec("z", DataType::kBool)}), "model.R");
  ASSERT_FALSE(added.ok());
  EXPECT_NE(added.status().message().find("input 'z' is declared in the prototype data.frame in "
                                          "model.R (BOOL [-1]) but not in m/config.json"),
            std::string::npos)
      << added.status().message();

  auto outputs =
      MergeSignature(Config({Spec("x", DataType::kFp64)}, {Spec("y", DataType::kFp64)}),
                     Code({Spec("x", DataType::kFp64)}, {Spec("y", DataType::kInt32)}), "model.py");
  ASSERT_FALSE(outputs.ok());
  EXPECT_NE(outputs.status().message().find("output 'y': m/config.json declares FP64"),
            std::string::npos);
}

TEST(MergeSignatureTest, OutputsComeFromWhicheverDeclaresThem) {
  auto code =
      MergeSignature(Config({Spec("x", DataType::kFp64)}),
                     Code({Spec("x", DataType::kFp64)}, {Spec("y", DataType::kFp32)}), "model.py");
  ASSERT_TRUE(code.ok());
  ASSERT_EQ(code->outputs.size(), 1u);
  EXPECT_EQ(code->outputs[0].datatype, DataType::kFp32);
}

TEST(MergeSignatureTest, DataFrameModeNeedsOneDimensionalInputs) {
  auto m = MergeSignature(Config({}), Code({Spec("x", DataType::kFp64, {-1, 3})}), "model.py");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("input 'x': data-frame mode needs 1-D inputs"),
            std::string::npos);
}

}  // namespace
}  // namespace modelgate
