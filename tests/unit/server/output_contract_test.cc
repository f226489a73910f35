// The output contract: what a worker's answer must hold before any front end
// encodes it (each violation, wildcards, batching, undeclared outputs, NA
// through conversions).
#include "server/output_contract.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <limits>

#include "common/missing_value.h"

namespace modelgate {
namespace {

Tensor Fp64(const std::string& name, std::vector<double> values = {0.0},
            std::vector<int64_t> shape = {}) {
  Tensor t;
  t.name = name;
  t.datatype = DataType::kFp64;
  t.shape = shape.empty() ? std::vector<int64_t>{static_cast<int64_t>(values.size())} : shape;
  t.raw.resize(values.size() * 8);
  std::memcpy(t.raw.data(), values.data(), t.raw.size());
  return t;
}

Tensor Bytes(const std::string& name, std::vector<std::string> values) {
  Tensor t;
  t.name = name;
  t.datatype = DataType::kBytes;
  t.shape = {static_cast<int64_t>(values.size())};
  t.strings = std::move(values);
  return t;
}

ModelConfig Declaring(std::vector<TensorSpec> outputs) {
  ModelConfig c;
  c.name = "m";
  c.outputs = std::move(outputs);
  return c;
}

Status Apply(const ModelConfig& c, std::vector<Tensor>& outputs,
             const std::vector<std::string>& requested = {},
             std::optional<int64_t> rows = std::nullopt) {
  OutputContract contract;
  return contract.Apply(c, 3, requested, rows, outputs);
}

void ExpectInternal(const Status& s, const std::string& message) {
  EXPECT_EQ(s.code(), StatusCode::kInternal) << s.message();
  EXPECT_EQ(s.message(), message);
}

TEST(OutputContractTest, DeclaredOutputsComeInDeclaredOrderConvertedAndFiltered) {
  ModelConfig c =
      Declaring({TensorSpec{"p", DataType::kFp32, {-1}}, TensorSpec{"y", DataType::kFp64, {-1}}});
  std::vector<Tensor> outputs{Fp64("y"), Fp64("p", {0.5})};
  ASSERT_TRUE(Apply(c, outputs).ok());
  ASSERT_EQ(outputs.size(), 2u);
  EXPECT_EQ(outputs[0].name, "p");
  EXPECT_EQ(outputs[0].datatype, DataType::kFp32);
  ASSERT_EQ(outputs[0].raw.size(), 4u);
  float f = 0;
  std::memcpy(&f, outputs[0].raw.data(), 4);
  EXPECT_EQ(f, 0.5f);
  EXPECT_EQ(outputs[1].name, "y");

  std::vector<Tensor> only_y{Fp64("y"), Fp64("p")};
  ASSERT_TRUE(Apply(c, only_y, {"y"}).ok());
  ASSERT_EQ(only_y.size(), 1u);
  EXPECT_EQ(only_y[0].name, "y");
}

TEST(OutputContractTest, AMissingOutputListsWhatTheModelReturned) {
  ModelConfig c =
      Declaring({TensorSpec{"y", DataType::kFp64, {-1}}, TensorSpec{"p", DataType::kFp64, {-1}}});
  std::vector<Tensor> outputs{Fp64("y"), Fp64("q")};
  ExpectInternal(Apply(c, outputs), "model 'm' version 3 returned no output 'p'; it returned y, q");
  std::vector<Tensor> none;
  ExpectInternal(Apply(c, none, {"p"}),
                 "model 'm' version 3 returned no output 'p'; it returned no outputs");
}

TEST(OutputContractTest, AShapeOtherThanTheDeclaredIsInternalNamingBoth) {
  ModelConfig c = Declaring({TensorSpec{"y", DataType::kFp64, {1}}});
  std::vector<Tensor> outputs{Fp64("y", {1, 2, 3})};
  ExpectInternal(Apply(c, outputs),
                 "model 'm' version 3 output 'y': shape [3] does not match the declared [1]");
  std::vector<Tensor> rank{Fp64("y", {1}, {1, 1})};
  ExpectInternal(Apply(c, rank),
                 "model 'm' version 3 output 'y': shape [1,1] does not match the declared [1]");
}

TEST(OutputContractTest, WildcardDimsMatchAnySize) {
  ModelConfig c = Declaring({TensorSpec{"y", DataType::kFp64, {-1, 2}}});
  std::vector<Tensor> outputs{Fp64("y", {1, 2, 3, 4, 5, 6}, {3, 2})};
  EXPECT_TRUE(Apply(c, outputs).ok());
  std::vector<Tensor> wrong{Fp64("y", {1, 2, 3}, {1, 3})};
  ExpectInternal(Apply(c, wrong),
                 "model 'm' version 3 output 'y': shape [1,3] does not match the declared [-1,2]");
}

TEST(OutputContractTest, UnderBatchingDimZeroIsTheRequestsRows) {
  ModelConfig c = Declaring({TensorSpec{"y", DataType::kFp64, {-1}}});
  c.max_batch_size = 8;
  std::vector<Tensor> ok{Fp64("y", {1, 2})};
  EXPECT_TRUE(Apply(c, ok, {}, 2).ok());
  std::vector<Tensor> outputs{Fp64("y", {1, 2, 3})};
  ExpectInternal(Apply(c, outputs, {}, 2),
                 "model 'm' version 3 output 'y': shape [3] does not have the request's 2 rows "
                 "as dim 0 (dynamic batching: outputs have the batch as dim 0)");
  c.max_batch_size = 0;  // without batching dim 0 is free
  std::vector<Tensor> free{Fp64("y", {1, 2, 3})};
  EXPECT_TRUE(Apply(c, free, {}, 2).ok());
}

TEST(OutputContractTest, BytesAndNumbersNeverConvert) {
  ModelConfig c = Declaring({TensorSpec{"y", DataType::kBytes, {-1}}});
  std::vector<Tensor> outputs{Fp64("y")};
  ExpectInternal(Apply(c, outputs),
                 "model 'm' version 3 output 'y': datatype FP64 does not match the declared BYTES");
  ModelConfig n = Declaring({TensorSpec{"y", DataType::kFp32, {-1}}});
  std::vector<Tensor> strings{Bytes("y", {"a"})};
  ExpectInternal(Apply(n, strings),
                 "model 'm' version 3 output 'y': datatype BYTES does not match the declared FP32");
}

TEST(OutputContractTest, ALossyConversionNamesModelVersionOutputAndElement) {
  ModelConfig c = Declaring({TensorSpec{"y", DataType::kInt8, {-1}}});
  std::vector<Tensor> outputs{Fp64("y", {1, 1000})};
  const Status s = Apply(c, outputs);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_EQ(s.message().rfind("model 'm' version 3 output 'y': element 1 (1000", 0), 0u)
      << s.message();
  EXPECT_NE(s.message().find("(returned FP64, declared INT8)"), std::string::npos) << s.message();
}

TEST(OutputContractTest, NaStaysNaAndNanStaysNanThroughFp32) {
  ModelConfig c = Declaring({TensorSpec{"y", DataType::kFp32, {-1}}});
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<Tensor> outputs{Fp64("y", {NaFp64(), std::nan(""), inf, -inf})};
  ASSERT_TRUE(Apply(c, outputs).ok());
  float f[4];
  ASSERT_EQ(outputs[0].raw.size(), sizeof f);
  std::memcpy(f, outputs[0].raw.data(), sizeof f);
  EXPECT_EQ(std::bit_cast<uint32_t>(f[0]), kFp32NaBits);
  EXPECT_TRUE(std::isnan(f[1]));
  EXPECT_FALSE(IsNa(f[1]));
  EXPECT_EQ(f[2], std::numeric_limits<float>::infinity());
  EXPECT_EQ(f[3], -std::numeric_limits<float>::infinity());
}

TEST(OutputContractTest, NaHasNoIntegerOrHalfValue) {
  for (DataType to : {DataType::kInt32, DataType::kFp16, DataType::kBool}) {
    ModelConfig c = Declaring({TensorSpec{"y", to, {-1}}});
    std::vector<Tensor> outputs{Fp64("y", {1, NaFp64()})};
    const Status s = Apply(c, outputs);
    EXPECT_EQ(s.code(), StatusCode::kInternal) << DataTypeName(to);
    if (to != DataType::kBool) {
      EXPECT_NE(s.message().find("output 'y': element 1 (NA) has no"), std::string::npos)
          << s.message();
    }
  }
}

TEST(OutputContractTest, UndeclaredOutputsAreDropped) {
  ModelConfig c = Declaring({TensorSpec{"y", DataType::kFp64, {-1}}});
  OutputContract contract;
  for (int i = 0; i < 3; ++i) {  // logged once; dropped every time
    std::vector<Tensor> outputs{Fp64("extra"), Fp64("y")};
    ASSERT_TRUE(contract.Apply(c, 3, {}, std::nullopt, outputs).ok());
    ASSERT_EQ(outputs.size(), 1u);
    EXPECT_EQ(outputs[0].name, "y");
  }
}

TEST(OutputContractTest, AMalformedOutputIsInternalNamingTheModel) {
  Tensor bad = Fp64("y");
  bad.raw.resize(4);  // half an FP64
  std::vector<Tensor> outputs{bad};
  const Status s = Apply(Declaring({}), outputs);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(s.message().find("model 'm'"), std::string::npos) << s.message();
}

TEST(OutputContractTest, TwoOutputsOfOneNameAreInternalNamingTheOutput) {
  for (const auto& requested : {std::vector<std::string>{}, std::vector<std::string>{"y"}}) {
    std::vector<Tensor> outputs{Fp64("y"), Fp64("y")};
    ExpectInternal(Apply(Declaring({}), outputs, requested), "model 'm' returned output 'y' twice");
  }
  std::vector<Tensor> outputs{Fp64("y"), Fp64("y")};
  EXPECT_EQ(Apply(Declaring({TensorSpec{"y", DataType::kFp64, {-1}}}), outputs).code(),
            StatusCode::kInternal);
}

TEST(OutputContractTest, RequestedOutputAnUndeclaringModelDidNotReturnIsInvalidArgument) {
  std::vector<Tensor> outputs{Fp64("y"), Fp64("pid")};
  Status s = Apply(Declaring({}), outputs, {"y", "zzz"});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "unknown output 'zzz': model 'm' returned y, pid");
  std::vector<Tensor> none;
  s = Apply(Declaring({}), none, {"zzz"});
  EXPECT_EQ(s.message(), "unknown output 'zzz': model 'm' returned no outputs");
}

TEST(OutputContractTest, RequestedOutputsOfAnUndeclaringModelAreKept) {
  std::vector<Tensor> outputs{Fp64("y"), Fp64("pid")};
  ASSERT_TRUE(Apply(Declaring({}), outputs, {"pid"}).ok());
  ASSERT_EQ(outputs.size(), 1u);
  EXPECT_EQ(outputs[0].name, "pid");
}

}  // namespace
}  // namespace modelgate
