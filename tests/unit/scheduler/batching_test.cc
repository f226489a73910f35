#include "scheduler/batching.h"

#include <gtest/gtest.h>

#include <cstring>

namespace modelgate {
namespace {

Tensor Fp64(const std::string& name, std::vector<int64_t> shape, std::vector<double> v) {
  Tensor t;
  t.name = name;
  t.datatype = DataType::kFp64;
  t.shape = std::move(shape);
  t.raw.assign(reinterpret_cast<const char*>(v.data()), v.size() * 8);
  return t;
}

std::vector<double> Values(const Tensor& t) {
  std::vector<double> v(t.raw.size() / 8);
  std::memcpy(v.data(), t.raw.data(), t.raw.size());
  return v;
}

TEST(BatchingTest, BatchableNeedsSameNamesTypesAndInnerDims) {
  std::vector<Tensor> a = {Fp64("f", {1, 4}, {1, 2, 3, 4})};
  std::vector<Tensor> b = {Fp64("f", {2, 4}, {0, 0, 0, 0, 0, 0, 0, 0})};
  std::vector<Tensor> c = {Fp64("f", {1, 3}, {0, 0, 0})};
  std::vector<Tensor> d = {Fp64("g", {1, 4}, {0, 0, 0, 0})};
  EXPECT_TRUE(Batchable(a, b));
  EXPECT_FALSE(Batchable(a, c));  // different non-batch dims
  EXPECT_FALSE(Batchable(a, d));  // different input
  std::vector<Tensor> scalar = {Fp64("f", {}, {1})};
  EXPECT_FALSE(Batchable(scalar, scalar));  // no batch dim
}

TEST(BatchingTest, RequestsWithDifferentParametersOrInputSetsNeverBatch) {
  std::vector<Tensor> a = {Fp64("f", {1}, {1})};
  std::vector<Tensor> b = {Fp64("f", {2}, {2, 3})};
  const Parameters less = {{"alternative", std::string("less")}};
  const Parameters greater = {{"alternative", std::string("greater")}};
  EXPECT_TRUE(Batchable(a, less, b, less));
  EXPECT_TRUE(Batchable(a, {}, b, {}));
  EXPECT_FALSE(Batchable(a, less, b, greater));
  EXPECT_FALSE(Batchable(a, less, b, {}));
  // A numerically equal value of another type is another parameter value.
  EXPECT_FALSE(Batchable(a, {{"k", int64_t{1}}}, b, {{"k", 1.0}}));
  // An optional input sent by one request and omitted by the other.
  std::vector<Tensor> with_g = {Fp64("f", {1}, {1}), Fp64("g", {1}, {1})};
  EXPECT_FALSE(Batchable(a, {}, with_g, {}));
  EXPECT_FALSE(Batchable(with_g, {}, a, {}));
}

TEST(BatchingTest, ConcatThenSplitGivesEachCallerItsOwnRowsInOrder) {
  std::vector<Tensor> r1 = {Fp64("wt", {1}, {1}), Fp64("hp", {1}, {10})};
  std::vector<Tensor> r2 = {Fp64("hp", {2}, {20, 30}), Fp64("wt", {2}, {2, 3})};  // other order
  auto merged = ConcatBatch({&r1, &r2});
  ASSERT_EQ(merged.size(), 2u);
  EXPECT_EQ(merged[0].name, "wt");
  EXPECT_EQ(merged[0].shape, std::vector<int64_t>{3});
  EXPECT_EQ(Values(merged[0]), (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(Values(merged[1]), (std::vector<double>{10, 20, 30}));
  // The model answers one row per input row, with an inner dim.
  std::vector<Tensor> outputs = {Fp64("p", {3, 2}, {1, 1, 2, 2, 3, 3})};
  auto split = SplitBatch(std::move(outputs), {1, 2});
  ASSERT_TRUE(split.ok());
  ASSERT_EQ(split->size(), 2u);
  EXPECT_EQ((*split)[0][0].shape, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(Values((*split)[0][0]), (std::vector<double>{1, 1}));
  EXPECT_EQ((*split)[1][0].shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(Values((*split)[1][0]), (std::vector<double>{2, 2, 3, 3}));
}

TEST(BatchingTest, SplitsStringsAndRejectsOutputsThatAreNotRowAligned) {
  Tensor s;
  s.name = "label";
  s.datatype = DataType::kBytes;
  s.shape = {3};
  s.strings = {"a", "b", "c"};
  std::vector<Tensor> outputs;
  outputs.push_back(s);
  auto split = SplitBatch(std::move(outputs), {2, 1});
  ASSERT_TRUE(split.ok());
  EXPECT_EQ((*split)[0][0].strings, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ((*split)[1][0].strings, std::vector<std::string>{"c"});
  std::vector<Tensor> summary = {Fp64("mean", {1}, {2.0})};
  auto bad = SplitBatch(std::move(summary), {2, 1});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("output 'mean'"), std::string::npos);
}

}  // namespace
}  // namespace modelgate
