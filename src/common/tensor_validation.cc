#include "common/tensor_validation.h"

#include <string>

namespace modelgate {

namespace {

std::string Label(const Tensor& t, TensorSource source, std::string_view model) {
  if (source == TensorSource::kClient) return "input '" + t.name + "': ";
  std::string s = model.empty() ? std::string() : "model '" + std::string(model) + "' ";
  return s + "output '" + t.name + "': ";
}

Status Fail(const Tensor& t, TensorSource source, std::string_view model, const std::string& why) {
  std::string m = Label(t, source, model) + why;
  return source == TensorSource::kClient ? InvalidArgument(std::move(m)) : Internal(std::move(m));
}

}  // namespace

std::optional<int64_t> CheckedElementCount(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0 || __builtin_mul_overflow(n, d, &n)) return std::nullopt;
  }
  // A 0 dim makes the product 0 whatever follows, but an overflow among the
  // other dims still marks the shape as absurd.
  if (n == 0) {
    int64_t rest = 1;
    for (int64_t d : shape) {
      if (d != 0 && __builtin_mul_overflow(rest, d, &rest)) return std::nullopt;
    }
  }
  return n;
}

StatusOr<int64_t> ValidateShape(const Tensor& t, TensorSource source, std::string_view model) {
  if (t.shape.size() > kMaxTensorRank) {
    return Fail(t, source, model,
                "shape has " + std::to_string(t.shape.size()) + " dimensions; at most " +
                    std::to_string(kMaxTensorRank) + " are allowed");
  }
  for (int64_t d : t.shape) {
    if (d < 0) {
      return Fail(t, source, model, "shape " + ShapeString(t.shape) + " has a negative dimension");
    }
  }
  const auto count = CheckedElementCount(t.shape);
  if (!count) {
    return Fail(t, source, model,
                "shape " + ShapeString(t.shape) +
                    " declares more elements than fit in 64 bits (the product of its "
                    "dimensions overflows)");
  }
  if (*count == 0) {
    if (source == TensorSource::kClient) {
      return Fail(t, source, model,
                  "shape " + ShapeString(t.shape) +
                      " has no elements; a 0 dimension is not accepted, send at least one row");
    }
    int64_t rows = 1;
    for (int64_t d : t.shape) {
      if (d == 0) break;
      rows *= d;  // no overflow: CheckedElementCount checked the nonzero dims
    }
    if (rows > kMaxEmptyOutputRows) {
      return Fail(t, source, model,
                  "shape " + ShapeString(t.shape) + " is empty but nests " + std::to_string(rows) +
                      " rows; at most " + std::to_string(kMaxEmptyOutputRows) + " are allowed");
    }
  }
  return *count;
}

Status ValidateTensor(const Tensor& t, TensorSource source, std::string_view model) {
  auto count = ValidateShape(t, source, model);
  if (!count.ok()) return count.status();
  const char* payload = source == TensorSource::kClient ? "data has " : "the worker sent ";
  if (t.datatype != DataType::kBytes && t.raw.size() % ElementSize(t.datatype) != 0) {
    return Fail(t, source, model,
                std::to_string(t.raw.size()) + " bytes of " +
                    std::string(DataTypeName(t.datatype)) + " data, not a whole number of " +
                    std::to_string(ElementSize(t.datatype)) + "-byte elements");
  }
  if (t.HeldElements() != *count) {
    return Fail(t, source, model,
                "shape " + ShapeString(t.shape) + " needs " + std::to_string(*count) +
                    " elements, " + payload + std::to_string(t.HeldElements()));
  }
  // A BOOL is one byte, 0 or 1: any other byte is not a bool value (reading
  // it as C++ bool is undefined), so it is refused, not guessed at.
  if (t.datatype == DataType::kBool) {
    for (size_t i = 0; i < t.raw.size(); ++i) {
      const auto b = static_cast<unsigned char>(t.raw[i]);
      if (b > 1) {
        return Fail(
            t, source, model,
            "BOOL element " + std::to_string(i) + " is byte " + std::to_string(b) + ", not 0 or 1");
      }
    }
  }
  return Status::Ok();
}

}  // namespace modelgate
