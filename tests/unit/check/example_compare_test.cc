// ExampleMismatch: what passes, and that each failure names the output, the
// element, expected and got values and the tolerance.
#include "check/example_compare.h"

#include <gtest/gtest.h>

#include <cstring>

#include "common/missing_value.h"

namespace modelgate {
namespace {

template <typename T>
Tensor Make(const std::string& name, DataType type, std::vector<T> values,
            std::vector<int64_t> shape = {}) {
  Tensor t;
  t.name = name;
  t.datatype = type;
  t.shape = shape.empty() ? std::vector<int64_t>{static_cast<int64_t>(values.size())} : shape;
  t.raw.resize(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(t.raw.data(), values.data(), t.raw.size());
  return t;
}

Tensor Strings(const std::string& name, std::vector<std::string> values) {
  Tensor t;
  t.name = name;
  t.datatype = DataType::kBytes;
  t.shape = {static_cast<int64_t>(values.size())};
  t.strings = std::move(values);
  return t;
}

ExampleRequest Expect(std::vector<Tensor> outputs, double tolerance = 1e-6) {
  ExampleRequest e;
  e.outputs = std::move(outputs);
  e.tolerance = tolerance;
  return e;
}

void ExpectMismatch(const std::optional<std::string>& m, const std::string& text) {
  ASSERT_TRUE(m.has_value()) << text;
  EXPECT_NE(m->find(text), std::string::npos) << *m;
}

TEST(ExampleCompareTest, FloatsPassWithinAbsoluteAndRelativeTolerance) {
  const auto e = Expect({Make<double>("p", DataType::kFp64, {0.5, 1000.0, 0.0})}, 1e-3);
  EXPECT_FALSE(ExampleMismatch(e, {Make<double>("p", DataType::kFp64, {0.5009, 1000.9, -0.0009})}));
  // FP32 answers and integer-valued expectations compare the same way.
  EXPECT_FALSE(ExampleMismatch(e, {Make<float>("p", DataType::kFp32, {0.5f, 1000.f, 0.f})}));
  const auto ints = Expect({Make<int64_t>("p", DataType::kInt64, {1, 2})});
  EXPECT_FALSE(ExampleMismatch(ints, {Make<double>("p", DataType::kFp64, {1.0000001, 2})}));
}

TEST(ExampleCompareTest, AFloatBeyondToleranceNamesOutputElementValuesAndTolerance) {
  const auto e = Expect({Make<double>("p", DataType::kFp64, {0.5, 0.25, 0.125})}, 1e-3);
  auto m = ExampleMismatch(e, {Make<double>("p", DataType::kFp64, {0.5, 0.25, 0.2})});
  ExpectMismatch(m, "output 'p' element 2: expected 0.125, got 0.2 (tolerance 0.001)");
  // Rank 2: the multi-index too.
  const auto grid = Expect({Make<double>("g", DataType::kFp64, {1, 2, 3, 4}, {2, 2})});
  m = ExampleMismatch(grid, {Make<double>("g", DataType::kFp64, {1, 2, 3, 5}, {2, 2})});
  ExpectMismatch(m, "output 'g' element 3 [1,1]: expected 4, got 5");
}

TEST(ExampleCompareTest, MissingValuesMatchOnlyThemselves) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const auto e = Expect({Make<double>("p", DataType::kFp64, {NaFp64(), nan, inf})});
  EXPECT_FALSE(ExampleMismatch(e, {Make<double>("p", DataType::kFp64, {NaFp64(), nan, inf})}));
  EXPECT_FALSE(ExampleMismatch(
      e, {Make<float>("p", DataType::kFp32, {NaFp32(), std::nanf(""), HUGE_VALF})}));
  ExpectMismatch(ExampleMismatch(e, {Make<double>("p", DataType::kFp64, {1, nan, inf})}),
                 "element 0: expected NA, got 1");
  ExpectMismatch(
      ExampleMismatch(e, {Make<double>("p", DataType::kFp64, {NaFp64(), NaFp64(), inf})}),
      "element 1: expected NaN, got NA");
  ExpectMismatch(ExampleMismatch(e, {Make<double>("p", DataType::kFp64, {NaFp64(), nan, -inf})}),
                 "element 2: expected Infinity, got -Infinity");
}

TEST(ExampleCompareTest, IntegersStringsAndBooleansMustBeEqual) {
  const auto ints = Expect({Make<int64_t>("label", DataType::kInt64, {0, 2})}, 0.5);
  EXPECT_FALSE(ExampleMismatch(ints, {Make<int32_t>("label", DataType::kInt32, {0, 2})}));
  ExpectMismatch(ExampleMismatch(ints, {Make<int64_t>("label", DataType::kInt64, {0, 1})}),
                 "output 'label' element 1: expected 2, got 1 (exact: INT64)");
  // Beyond 2^53 integers still compare exactly.
  const int64_t big = (int64_t{1} << 53) + 1;
  const auto exact = Expect({Make<int64_t>("n", DataType::kInt64, {big})});
  EXPECT_FALSE(ExampleMismatch(exact, {Make<int64_t>("n", DataType::kInt64, {big})}));
  ExpectMismatch(ExampleMismatch(exact, {Make<int64_t>("n", DataType::kInt64, {big - 1})}),
                 "expected 9007199254740993, got 9007199254740992");

  const auto s = Expect({Strings("species", {"setosa", "virginica"})});
  EXPECT_FALSE(ExampleMismatch(s, {Strings("species", {"setosa", "virginica"})}));
  ExpectMismatch(ExampleMismatch(s, {Strings("species", {"setosa", "versicolor"})}),
                 "output 'species' element 1: expected \"virginica\", got \"versicolor\"");

  const auto b = Expect({Make<uint8_t>("ok", DataType::kBool, {1, 0})});
  EXPECT_FALSE(ExampleMismatch(b, {Make<uint8_t>("ok", DataType::kBool, {1, 0})}));
  ExpectMismatch(ExampleMismatch(b, {Make<uint8_t>("ok", DataType::kBool, {1, 1})}),
                 "element 1: expected false, got true");
}

TEST(ExampleCompareTest, MissingOutputsKindsCountsAndShapesAreNamed) {
  const auto e = Expect({Make<double>("p", DataType::kFp64, {1, 2})});
  ExpectMismatch(ExampleMismatch(e, {Make<double>("q", DataType::kFp64, {1, 2})}),
                 "output 'p' is not in the answer (it holds: q)");
  ExpectMismatch(ExampleMismatch(e, {Strings("p", {"a", "b"})}),
                 "output 'p': expected numbers, got BYTES");
  ExpectMismatch(ExampleMismatch(e, {Make<double>("p", DataType::kFp64, {1, 2, 3})}),
                 "output 'p': expected 2 values, got 3");
  const auto nested = Expect({Make<double>("p", DataType::kFp64, {1, 2}, {1, 2})});
  ExpectMismatch(ExampleMismatch(nested, {Make<double>("p", DataType::kFp64, {1, 2}, {2, 1})}),
                 "output 'p': expected shape [1,2], got [2,1]");
  // Outputs the example does not name are not compared.
  EXPECT_FALSE(
      ExampleMismatch(e, {Make<double>("p", DataType::kFp64, {1, 2}), Strings("extra", {"x"})}));
}

}  // namespace
}  // namespace modelgate
