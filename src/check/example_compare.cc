#include "check/example_compare.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "common/half_float.h"
#include "common/missing_value.h"

namespace modelgate {

namespace {

// Longest string value quoted in a mismatch.
constexpr size_t kMaxQuotedBytes = 60;

template <typename T>
T RawAt(const Tensor& t, size_t i) {
  T v;
  std::memcpy(&v, t.raw.data() + i * sizeof(T), sizeof(T));
  return v;
}

// One numeric element as a double, with R's NA kept apart from NaN.
struct Number {
  double value = 0;
  bool na = false;
};

Number NumberAt(const Tensor& t, size_t i) {
  return VisitDataType(t.datatype, [&](auto type) -> Number {
    using T = typename decltype(type)::type;
    if constexpr (std::is_same_v<T, std::string>) {
      return {};
    } else if constexpr (kIsHalfFloat<T>) {
      return {static_cast<double>(ToFloat(RawAt<T>(t, i))), false};
    } else if constexpr (std::is_same_v<T, float>) {
      const float f = RawAt<float>(t, i);
      return {static_cast<double>(f), IsNa(f)};
    } else if constexpr (std::is_same_v<T, double>) {
      const double d = RawAt<double>(t, i);
      return {d, IsNa(d)};
    } else {
      return {static_cast<double>(RawAt<T>(t, i)), false};
    }
  });
}

// An integer element exactly; nullopt for a UINT64 beyond INT64.
std::optional<int64_t> IntegerAt(const Tensor& t, size_t i) {
  return VisitDataType(t.datatype, [&](auto type) -> std::optional<int64_t> {
    using T = typename decltype(type)::type;
    if constexpr (std::is_same_v<T, uint64_t>) {
      const uint64_t u = RawAt<uint64_t>(t, i);
      if (u > uint64_t{INT64_MAX}) return std::nullopt;
      return static_cast<int64_t>(u);
    } else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      return static_cast<int64_t>(RawAt<T>(t, i));
    } else {
      return std::nullopt;
    }
  });
}

bool IsFloat(DataType t) {
  return t == DataType::kFp16 || t == DataType::kBf16 || t == DataType::kFp32 ||
         t == DataType::kFp64;
}

std::string Show(const Number& n) {
  if (n.na) return "NA";
  if (std::isnan(n.value)) return "NaN";
  if (std::isinf(n.value)) return n.value > 0 ? "Infinity" : "-Infinity";
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, n.value);
  return std::string(buf, r.ptr);
}

std::string ShowInteger(const Tensor& t, size_t i) {
  return VisitDataType(t.datatype, [&](auto type) -> std::string {
    using T = typename decltype(type)::type;
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      return std::to_string(RawAt<T>(t, i));
    } else {
      return Show(NumberAt(t, i));
    }
  });
}

std::string Quote(const std::string& s) {
  return "\"" + (s.size() > kMaxQuotedBytes ? s.substr(0, kMaxQuotedBytes) + "…" : s) + "\"";
}

// "element 4" or, for rank > 1, "element 4 [1,1]".
std::string Element(const std::vector<int64_t>& shape, size_t flat) {
  std::string s = "element " + std::to_string(flat);
  if (shape.size() <= 1) return s;
  std::vector<int64_t> index(shape.size());
  size_t rest = flat;
  for (size_t d = shape.size(); d-- > 0;) {
    const auto dim = static_cast<size_t>(std::max<int64_t>(shape[d], 1));
    index[d] = static_cast<int64_t>(rest % dim);
    rest /= dim;
  }
  return s + " " + ShapeString(index);
}

bool Close(const Number& expected, const Number& got, double tolerance) {
  if (expected.na || got.na) return expected.na && got.na;
  if (std::isnan(expected.value) || std::isnan(got.value)) {
    return std::isnan(expected.value) && std::isnan(got.value);
  }
  if (std::isinf(expected.value) || std::isinf(got.value)) return expected.value == got.value;
  return std::fabs(got.value - expected.value) <= tolerance * (1 + std::fabs(expected.value));
}

std::string KindOf(DataType t) {
  if (t == DataType::kBytes) return "strings";
  if (t == DataType::kBool) return "booleans";
  return "numbers";
}

std::optional<std::string> CompareOne(const Tensor& expected, const Tensor& got, double tolerance) {
  const std::string where = "output '" + expected.name + "'";
  const bool numeric_expected =
      expected.datatype == DataType::kInt64 || expected.datatype == DataType::kFp64;
  const bool numeric_got = got.datatype != DataType::kBytes && got.datatype != DataType::kBool;
  const bool same_kind =
      (expected.datatype == got.datatype && !numeric_expected) || (numeric_expected && numeric_got);
  if (!same_kind) {
    return where + ": expected " + KindOf(expected.datatype) + ", got " +
           std::string(DataTypeName(got.datatype));
  }
  if (expected.shape.size() > 1 && expected.shape != got.shape) {
    return where + ": expected shape " + ShapeString(expected.shape) + ", got " +
           ShapeString(got.shape);
  }
  const int64_t n = expected.HeldElements();
  if (got.HeldElements() != n) {
    return where + ": expected " + std::to_string(n) + " values, got " +
           std::to_string(got.HeldElements()) + " (shape " + ShapeString(got.shape) + ")";
  }
  for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
    std::string want, have;
    bool equal = true;
    if (got.datatype == DataType::kBytes) {
      equal = expected.strings[i] == got.strings[i];
      if (!equal) want = Quote(expected.strings[i]), have = Quote(got.strings[i]);
    } else if (got.datatype == DataType::kBool) {
      equal = (RawAt<uint8_t>(expected, i) != 0) == (RawAt<uint8_t>(got, i) != 0);
      if (!equal) {
        want = RawAt<uint8_t>(expected, i) ? "true" : "false";
        have = RawAt<uint8_t>(got, i) ? "true" : "false";
      }
    } else if (IsFloat(got.datatype)) {
      const Number e = NumberAt(expected, i), g = NumberAt(got, i);
      if (!Close(e, g, tolerance)) {
        return where + " " + Element(got.shape, i) + ": expected " + Show(e) + ", got " + Show(g) +
               " (tolerance " + Show({tolerance, false}) + ")";
      }
    } else if (expected.datatype == DataType::kInt64) {
      // Integer answers compare exactly, as integers (beyond 2^53 too).
      const int64_t e = RawAt<int64_t>(expected, i);
      const std::optional<int64_t> g = IntegerAt(got, i);
      equal = g && e == *g;
      if (!equal) want = std::to_string(e), have = ShowInteger(got, i);
    } else {
      const Number e = NumberAt(expected, i), g = NumberAt(got, i);
      equal = !e.na && e.value == g.value;
      if (!equal) want = Show(e), have = ShowInteger(got, i);
    }
    if (!equal) {
      return where + " " + Element(got.shape, i) + ": expected " + want + ", got " + have +
             " (exact: " + std::string(DataTypeName(got.datatype)) + ")";
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> ExampleMismatch(const ExampleRequest& example,
                                           const std::vector<Tensor>& got) {
  for (const Tensor& expected : example.outputs) {
    const Tensor* answer = nullptr;
    for (const Tensor& t : got) {
      if (t.name == expected.name) answer = &t;
    }
    if (answer == nullptr) {
      std::string names;
      for (const Tensor& t : got) names += (names.empty() ? "" : ", ") + t.name;
      return "output '" + expected.name +
             "' is not in the answer (it holds: " + (names.empty() ? "nothing" : names) + ")";
    }
    if (auto mismatch = CompareOne(expected, *answer, example.tolerance)) return mismatch;
  }
  return std::nullopt;
}

}  // namespace modelgate
