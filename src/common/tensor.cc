#include "modelgate/tensor.h"

#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include "common/half_float.h"
#include "common/missing_value.h"
#include "common/tensor_validation.h"

namespace modelgate {

namespace {

struct TypeName {
  DataType type;
  std::string_view name;
};

// Indexed by DataType.
constexpr std::array<TypeName, 14> kNames = {{
    {DataType::kBool, "BOOL"},
    {DataType::kUint8, "UINT8"},
    {DataType::kUint16, "UINT16"},
    {DataType::kUint32, "UINT32"},
    {DataType::kUint64, "UINT64"},
    {DataType::kInt8, "INT8"},
    {DataType::kInt16, "INT16"},
    {DataType::kInt32, "INT32"},
    {DataType::kInt64, "INT64"},
    {DataType::kFp16, "FP16"},
    {DataType::kFp32, "FP32"},
    {DataType::kFp64, "FP64"},
    {DataType::kBytes, "BYTES"},
    {DataType::kBf16, "BF16"},
}};

// The arithmetic type an element of T is computed in: float for FP16/BF16.
template <class T>
using Arithmetic = std::conditional_t<kIsHalfFloat<T>, float, T>;

template <class T>
Arithmetic<T> LoadAt(const std::string& raw, size_t i) {
  T v;
  std::memcpy(&v, raw.data() + i * sizeof(T), sizeof(T));
  if constexpr (kIsHalfFloat<T>) {
    return ToFloat(v);
  } else {
    return v;
  }
}

// Converts one element; false when `f` has no value in To (see CastTensor).
template <class From, class To>
bool ConvertElement(From f, To* out) {
  using A = Arithmetic<To>;
  // NaN (NA included) is neither true nor false.
  if constexpr (std::is_floating_point_v<From> && std::is_same_v<To, bool>) {
    if (std::isnan(f)) return false;
  }
  // NA stays NA between FP64 and FP32 (a plain cast keeps only NaN); the
  // half types and integers have no NA (missing_value.h).
  if constexpr (std::is_floating_point_v<From> && !std::is_same_v<To, bool>) {
    if (IsNa(f)) {
      if constexpr (std::is_same_v<To, double>) {
        *out = NaFp64();
        return true;
      } else if constexpr (std::is_same_v<To, float>) {
        *out = NaFp32();
        return true;
      } else {
        return false;
      }
    }
  }
  // A float that is NaN, infinite or out of the integer's range has no
  // integer value (and the C++ cast would be undefined), and an integer
  // out of range would wrap: refuse both rather than answer wrongly.
  if constexpr (std::is_floating_point_v<From> && std::is_integral_v<A> &&
                !std::is_same_v<A, bool>) {
    // 2^digits is one past the largest value, exactly representable.
    const From limit = std::ldexp(From{1}, std::numeric_limits<A>::digits);
    const From whole = std::trunc(f);
    const From low = std::is_signed_v<A> ? -limit : From{0};
    if (!(whole >= low && whole < limit)) return false;
  }
  if constexpr (std::is_integral_v<From> && !std::is_same_v<From, bool> && std::is_integral_v<A> &&
                !std::is_same_v<A, bool>) {
    if (!std::in_range<A>(f)) return false;  // an integer that would wrap
  }
  const A a = static_cast<A>(f);
  if constexpr (kIsHalfFloat<To>) {
    *out = FromFloat<To>(a);
    // A finite value past the half type's range would become infinity.
    if (std::isinf(ToFloat(*out)) && std::isfinite(static_cast<double>(f))) return false;
  } else {
    *out = a;
  }
  return true;
}

}  // namespace

std::optional<DataType> ParseDataType(std::string_view name) {
  for (const auto& t : kNames) {
    if (t.name == name) return t.type;
  }
  return std::nullopt;
}

std::string_view DataTypeName(DataType type) { return kNames[static_cast<size_t>(type)].name; }

size_t ElementSize(DataType type) {
  return VisitDataType(type, []<class T>(std::type_identity<T>) -> size_t {
    if constexpr (std::is_same_v<T, std::string>) {
      return 0;
    } else {
      return sizeof(T);
    }
  });
}

int64_t Tensor::ElementCount() const { return CheckedElementCount(shape).value_or(-1); }

int64_t Tensor::HeldElements() const {
  if (datatype == DataType::kBytes) return static_cast<int64_t>(strings.size());
  return static_cast<int64_t>(raw.size() / ElementSize(datatype));
}

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size() && i < kMaxShapeStringDims; ++i) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  if (shape.size() > kMaxShapeStringDims) s += ",…(" + std::to_string(shape.size()) + " dims)";
  return s + "]";
}

namespace {

// Converts `raw` (elements of From) into `out` (elements of To). False when
// either type is BYTES; `lossy` is set to the first element without a value
// in To. A function template rather than code inside the visiting lambdas:
// clang 14 instantiates a discarded `if constexpr` branch in nested generic
// lambdas.
template <class From, class To>
bool ConvertElements(const std::string& raw, std::string& out, int64_t& lossy, double& bad_value) {
  if constexpr (std::is_same_v<From, std::string> || std::is_same_v<To, std::string>) {
    return false;  // BYTES has no numeric value
  } else {
    const size_t n = raw.size() / sizeof(From);
    out.resize(n * sizeof(To));
    for (size_t i = 0; i < n; ++i) {
      const auto f = LoadAt<From>(raw, i);
      To t;
      if (!ConvertElement(f, &t)) {
        lossy = static_cast<int64_t>(i);
        bad_value = static_cast<double>(f);
        if constexpr (std::is_floating_point_v<decltype(f)>) {
          if (IsNa(f)) bad_value = NaFp64();
        }
        break;
      }
      std::memcpy(out.data() + i * sizeof(To), &t, sizeof(To));
    }
    return true;
  }
}

}  // namespace

Status CastTensor(Tensor& tensor, DataType to) {
  if (tensor.datatype == to) return Status::Ok();
  std::string out;
  int64_t lossy = -1;  // first element without a value in `to`
  double bad_value = 0;
  const bool convertible =
      VisitDataType(tensor.datatype, [&]<class From>(std::type_identity<From>) {
        return VisitDataType(to, [&]<class To>(std::type_identity<To>) {
          return ConvertElements<From, To>(tensor.raw, out, lossy, bad_value);
        });
      });
  if (lossy >= 0) {
    const std::string value = IsNa(bad_value) ? "NA" : std::to_string(bad_value);
    return Internal("output '" + tensor.name + "': element " + std::to_string(lossy) + " (" +
                    value + ") has no " + std::string(DataTypeName(to)) +
                    " value; declare the output with a datatype that holds it");
  }
  if (!convertible) {
    return Internal("output '" + tensor.name + "': cannot convert " +
                    std::string(DataTypeName(tensor.datatype)) + " to " +
                    std::string(DataTypeName(to)));
  }
  tensor.raw = std::move(out);
  tensor.datatype = to;
  return Status::Ok();
}

}  // namespace modelgate
