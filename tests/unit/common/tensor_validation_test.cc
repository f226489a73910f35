#include "common/tensor_validation.h"

#include <gtest/gtest.h>

namespace modelgate {
namespace {

constexpr int64_t k2Pow62 = int64_t{1} << 62;

Tensor Fp64(std::vector<int64_t> shape, size_t elements) {
  Tensor t;
  t.name = "x";
  t.datatype = DataType::kFp64;
  t.shape = std::move(shape);
  t.raw.assign(elements * 8, '\0');
  return t;
}

TEST(TensorValidationTest, ElementCountIsOverflowChecked) {
  EXPECT_EQ(CheckedElementCount({}), 1);
  EXPECT_EQ(CheckedElementCount({2, 3}), 6);
  EXPECT_EQ(CheckedElementCount({0, 4}), 0);
  EXPECT_FALSE(CheckedElementCount({k2Pow62, 4}).has_value());  // wraps to 0 unchecked
  EXPECT_FALSE(CheckedElementCount({0, k2Pow62, 4}).has_value());
  EXPECT_FALSE(CheckedElementCount({2, -1}).has_value());
  EXPECT_EQ(Fp64({k2Pow62, 4}, 0).ElementCount(), -1);
}

TEST(TensorValidationTest, ClientShapesAreInvalidArgumentNamingTheInput) {
  struct Case {
    Tensor t;
    const char* fragment;
  } cases[] = {
      {Fp64({k2Pow62, 4}, 0), "input 'x': shape [4611686018427387904,4] declares more elements"},
      {Fp64({0, 4}, 0), "input 'x': shape [0,4] has no elements"},
      {Fp64({2, -3}, 6), "input 'x': shape [2,-3] has a negative dimension"},
      {Fp64(std::vector<int64_t>(17, 1), 1), "shape has 17 dimensions; at most 16"},
      {Fp64({2}, 1), "input 'x': shape [2] needs 2 elements, data has 1"},
      {Fp64({2}, 3), "needs 2 elements, data has 3"},
  };
  for (const auto& c : cases) {
    Status s = ValidateTensor(c.t, TensorSource::kClient);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.fragment;
    EXPECT_NE(s.message().find(c.fragment), std::string::npos) << s.message();
  }
  Tensor partial = Fp64({1}, 1);
  partial.raw.pop_back();
  EXPECT_EQ(ValidateTensor(partial, TensorSource::kClient).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(ValidateTensor(Fp64({2, 16}, 32), TensorSource::kClient).ok());
  EXPECT_TRUE(ValidateTensor(Fp64(std::vector<int64_t>(16, 1), 1), TensorSource::kClient).ok());
}

TEST(TensorValidationTest, WorkerOutputsAreInternalNamingModelOutputAndShape) {
  Tensor t = Fp64({k2Pow62, 4}, 0);
  t.name = "y";
  Status s = ValidateTensor(t, TensorSource::kWorker, "m");
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(s.message().find("model 'm' output 'y': shape [4611686018427387904,4]"),
            std::string::npos)
      << s.message();
  Tensor bytes;
  bytes.name = "s";
  bytes.datatype = DataType::kBytes;
  bytes.shape = {k2Pow62, 4};
  EXPECT_EQ(ValidateTensor(bytes, TensorSource::kWorker, "m").code(), StatusCode::kInternal);
}

TEST(TensorValidationTest, EmptyWorkerOutputsMayNestOnlyBoundedRows) {
  // An empty output is legal for a model, but [20000000,0] would be 2e7 JSON rows.
  EXPECT_TRUE(ValidateTensor(Fp64({5, 0}, 0), TensorSource::kWorker, "m").ok());
  EXPECT_TRUE(ValidateTensor(Fp64({kMaxEmptyOutputRows, 0}, 0), TensorSource::kWorker, "m").ok());
  Status s = ValidateTensor(Fp64({20000000, 0}, 0), TensorSource::kWorker, "m");
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(s.message().find("shape [20000000,0] is empty but nests 20000000 rows"),
            std::string::npos)
      << s.message();
  EXPECT_EQ(ValidateTensor(Fp64({1000, 1000, 0}, 0), TensorSource::kWorker, "m").code(),
            StatusCode::kInternal);
}

TEST(TensorValidationTest, ShapeStringCutsLongShapes) {
  EXPECT_EQ(ShapeString({-1, 4}), "[-1,4]");
  const std::string s = ShapeString(std::vector<int64_t>(200000, 1));
  EXPECT_EQ(s, "[1,1,1,1,1,1,1,1,…(200000 dims)]");
}

TEST(TensorValidationTest, BoolBytesMustBeZeroOrOne) {
  Tensor t;
  t.name = "flag";
  t.datatype = DataType::kBool;
  t.shape = {3};
  t.raw = std::string("\x01\x00\x02", 3);
  Status client = ValidateTensor(t, TensorSource::kClient);
  EXPECT_EQ(client.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(client.message().find("BOOL element 2 is byte 2"), std::string::npos)
      << client.message();
  EXPECT_EQ(ValidateTensor(t, TensorSource::kWorker, "m").code(), StatusCode::kInternal);
  t.raw[2] = 1;
  EXPECT_TRUE(ValidateTensor(t, TensorSource::kClient).ok());
}

}  // namespace
}  // namespace modelgate
