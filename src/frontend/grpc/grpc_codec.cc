#include "frontend/grpc/grpc_codec.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <type_traits>

#include "common/tensor_validation.h"
#include "observability/request_id.h"

namespace modelgate {

namespace {

template <typename To, typename Repeated>
Status PackTyped(const Repeated& values, Tensor& t) {
  t.raw.resize(values.size() * sizeof(To));
  char* out = t.raw.data();
  for (const auto& v : values) {
    if constexpr (sizeof(To) < sizeof(v) && std::is_integral_v<To>) {
      if (v < std::numeric_limits<To>::lowest() || v > std::numeric_limits<To>::max()) {
        return InvalidArgument("input '" + t.name + "': " + std::to_string(v) +
                               " is out of range for " + std::string(DataTypeName(t.datatype)));
      }
    }
    const To x = static_cast<To>(v);
    std::memcpy(out, &x, sizeof x);
    out += sizeof x;
  }
  return Status::Ok();
}

// The typed contents field KServe V2 gives elements of T (FP16 and BF16 have
// none: callers handle them first).
template <typename T>
const auto& Field(const inference::InferTensorContents& c) {
  static_assert(!kIsHalfFloat<T>, "FP16/BF16 have no typed contents field");
  if constexpr (std::is_same_v<T, bool>) {
    return c.bool_contents();
  } else if constexpr (std::is_same_v<T, std::string>) {
    return c.bytes_contents();
  } else if constexpr (std::is_same_v<T, float>) {
    return c.fp32_contents();
  } else if constexpr (std::is_same_v<T, double>) {
    return c.fp64_contents();
  } else if constexpr (std::is_signed_v<T>) {
    if constexpr (sizeof(T) == 8) {
      return c.int64_contents();
    } else {
      return c.int_contents();
    }
  } else if constexpr (sizeof(T) == 8) {
    return c.uint64_contents();
  } else {
    return c.uint_contents();
  }
}

// Field<T> of a message the caller may modify: a repeated field's const
// accessor returns the member itself (never a shared default instance), so
// casting it back is well-defined and keeps the mapping in one place.
template <typename T>
auto* MutableField(inference::InferTensorContents* c) {
  using Repeated = std::remove_cvref_t<decltype(Field<T>(*c))>;
  return const_cast<Repeated*>(&Field<T>(*c));
}

Status FromContents(const inference::InferTensorContents& c, Tensor& t) {
  return VisitDataType(t.datatype, [&]<class T>(std::type_identity<T>) {
    if constexpr (kIsHalfFloat<T>) {
      return InvalidArgument("input '" + t.name + "': datatype " +
                             std::string(DataTypeName(t.datatype)) +
                             " has no typed contents field; send raw_input_contents");
    } else if constexpr (std::is_same_v<T, std::string>) {
      t.strings.assign(c.bytes_contents().begin(), c.bytes_contents().end());
      return Status::Ok();
    } else {
      return PackTyped<T>(Field<T>(c), t);
    }
  });
}

// Elements in the typed contents field that `type` reads (-1: none).
int64_t TypedCount(const inference::InferTensorContents& c, DataType type) {
  return VisitDataType(type, [&]<class T>(std::type_identity<T>) -> int64_t {
    if constexpr (kIsHalfFloat<T>) {
      return -1;
    } else {
      return Field<T>(c).size();
    }
  });
}

// Triton's layout: each element a 4-byte little-endian length, then the
// bytes. `count` has been checked against raw.size() (each element takes at
// least 4 bytes), so reserving it is bounded by what the client sent.
Status FromRawBytes(const std::string& raw, int64_t count, Tensor& t) {
  t.strings.reserve(static_cast<size_t>(count));
  size_t at = 0;
  while (at < raw.size() && static_cast<int64_t>(t.strings.size()) < count) {
    if (raw.size() - at < 4) break;
    uint32_t n;
    std::memcpy(&n, raw.data() + at, 4);
    at += 4;
    if (raw.size() - at < n) break;
    t.strings.emplace_back(raw.data() + at, n);
    at += n;
  }
  if (at != raw.size() || static_cast<int64_t>(t.strings.size()) != count) {
    return InvalidArgument("input '" + t.name + "': raw BYTES contents for shape " +
                           ShapeString(t.shape) + " must be " + std::to_string(count) +
                           " elements, each a 4-byte little-endian length followed by that "
                           "many bytes");
  }
  return Status::Ok();
}

template <typename From, typename Repeated>
void UnpackTyped(const std::string& raw, Repeated* out) {
  const size_t n = raw.size() / sizeof(From);
  out->Reserve(static_cast<int>(n));
  for (size_t i = 0; i < n; ++i) {
    From v;
    std::memcpy(&v, raw.data() + i * sizeof(From), sizeof v);
    out->Add(v);
  }
}

// Whether `type` has a typed contents field an output can be written to.
bool HasTypedContents(DataType type) {
  return VisitDataType(type, []<class T>(std::type_identity<T>) { return !kIsHalfFloat<T>; });
}

// Requires HasTypedContents(t.datatype) (ToGrpc sends the rest raw).
void ToContents(const Tensor& t, inference::InferTensorContents* c) {
  VisitDataType(t.datatype, [&]<class T>(std::type_identity<T>) {
    if constexpr (std::is_same_v<T, std::string>) {
      for (const auto& s : t.strings) c->add_bytes_contents(s);
    } else if constexpr (!kIsHalfFloat<T>) {
      UnpackTyped<T>(t.raw, MutableField<T>(c));
    }
  });
}

}  // namespace

// Every request parameter the daemon does not own goes to the model, checked
// key by key before its value is copied.
Status ReadModelParameters(const inference::ModelInferRequest& request, Parameters& out) {
  for (const auto& [key, p] : request.parameters()) {
    if (IsDaemonParameter(key)) continue;
    if (Status s = CheckParameterKey(key, out.size()); !s.ok()) return s;
    ParameterValue v;
    switch (p.parameter_choice_case()) {
      case inference::InferParameter::kBoolParam:
        v = p.bool_param();
        break;
      case inference::InferParameter::kInt64Param:
        v = p.int64_param();
        break;
      case inference::InferParameter::kDoubleParam:
        v = p.double_param();
        break;
      case inference::InferParameter::kUint64Param:
        if (p.uint64_param() > uint64_t{std::numeric_limits<int64_t>::max()}) {
          return InvalidArgument("request parameter '" + key + "': uint64_param " +
                                 std::to_string(p.uint64_param()) +
                                 " does not fit a 64-bit signed integer");
        }
        v = static_cast<int64_t>(p.uint64_param());
        break;
      case inference::InferParameter::kStringParam:
        if (Status s = CheckParameterString(key, p.string_param()); !s.ok()) return s;
        v = p.string_param();
        break;
      default:
        return InvalidArgument("request parameter '" + key + "' has no value");
    }
    out.emplace(key, std::move(v));
  }
  return Status::Ok();
}

StatusOr<std::optional<std::chrono::microseconds>> TimeoutParameter(
    const inference::ModelInferRequest& request) {
  auto it = request.parameters().find("timeout");
  if (it == request.parameters().end()) return std::optional<std::chrono::microseconds>();
  const inference::InferParameter& p = it->second;
  constexpr uint64_t kMaxUs = std::numeric_limits<int64_t>::max();
  int64_t us = 0;
  if (p.parameter_choice_case() == inference::InferParameter::kInt64Param) {
    us = p.int64_param();
  } else if (p.parameter_choice_case() == inference::InferParameter::kUint64Param) {
    us = static_cast<int64_t>(std::min<uint64_t>(p.uint64_param(), kMaxUs));
  }
  if (us <= 0) {
    return InvalidArgument(
        "parameter 'timeout' must be a positive int64_param or uint64_param (microseconds)");
  }
  return std::optional<std::chrono::microseconds>(us);
}

StatusOr<InferRequest> FromGrpc(const inference::ModelInferRequest& request) {
  InferRequest r;
  r.model = request.model_name();
  r.version = request.model_version();
  if (Status s = ValidateRequestId(request.id(), "field 'id'"); !s.ok()) return s;
  r.id = request.id();
  if (Status s = ReadModelParameters(request, r.parameters); !s.ok()) return s;
  const bool raw = request.raw_input_contents_size() > 0;
  if (raw && request.raw_input_contents_size() != request.inputs_size()) {
    return InvalidArgument("raw_input_contents has " +
                           std::to_string(request.raw_input_contents_size()) + " entries for " +
                           std::to_string(request.inputs_size()) +
                           " inputs; it needs one per input, in order");
  }
  r.inputs.resize(request.inputs_size());
  for (int i = 0; i < request.inputs_size(); ++i) {
    const auto& in = request.inputs(i);
    Tensor& t = r.inputs[i];
    t.name = in.name();
    auto type = ParseDataType(in.datatype());
    if (!type) {
      return InvalidArgument("input '" + t.name + "': unknown datatype '" + in.datatype() + "'");
    }
    t.datatype = *type;
    t.shape.assign(in.shape().begin(), in.shape().end());
    // The shape is checked before any data is copied or sized from it.
    auto count = ValidateShape(t, TensorSource::kClient);
    if (!count.ok()) return count.status();
    Status s;
    if (raw) {
      if (in.has_contents()) {
        return InvalidArgument("input '" + t.name +
                               "': set either contents or raw_input_contents, not both");
      }
      const std::string& bytes = request.raw_input_contents(i);
      if (t.datatype == DataType::kBytes) {
        s = static_cast<uint64_t>(*count) > bytes.size() / 4
                ? InvalidArgument("input '" + t.name + "': shape " + ShapeString(t.shape) +
                                  " needs " + std::to_string(*count) +
                                  " BYTES elements, but raw_input_contents has only " +
                                  std::to_string(bytes.size()) + " bytes")
                : FromRawBytes(bytes, *count, t);
      } else {
        const size_t elem = ElementSize(t.datatype);
        if (bytes.size() % elem != 0 || bytes.size() / elem != static_cast<uint64_t>(*count)) {
          return InvalidArgument("input '" + t.name + "': shape " + ShapeString(t.shape) + " of " +
                                 std::string(DataTypeName(t.datatype)) + " needs " +
                                 std::to_string(*count) + " elements of " + std::to_string(elem) +
                                 " bytes, raw_input_contents has " + std::to_string(bytes.size()) +
                                 " bytes");
        }
        t.raw = bytes;
      }
    } else {
      const int64_t held = TypedCount(in.contents(), t.datatype);
      if (held >= 0 && held != *count) {
        return InvalidArgument("input '" + t.name + "': shape " + ShapeString(t.shape) + " needs " +
                               std::to_string(*count) + " elements, contents has " +
                               std::to_string(held));
      }
      s = FromContents(in.contents(), t);
    }
    if (!s.ok()) return s;
    if (Status v = ValidateTensor(t, TensorSource::kClient); !v.ok()) return v;
  }
  for (const auto& o : request.outputs()) r.requested_outputs.push_back(o.name());
  return r;
}

void ToGrpc(InferResponse&& response, bool raw, inference::ModelInferResponse* out) {
  // FP16/BF16 have no typed contents field: rather than an empty one, send
  // every output raw (the protocol allows raw or typed, not a mix).
  raw = raw || std::any_of(response.outputs.begin(), response.outputs.end(),
                           [](const Tensor& t) { return !HasTypedContents(t.datatype); });
  out->set_model_name(std::move(response.model));
  out->set_model_version(std::move(response.version));
  out->set_id(std::move(response.id));
  for (Tensor& t : response.outputs) {
    auto* o = out->add_outputs();
    o->set_name(t.name);
    o->set_datatype(std::string(DataTypeName(t.datatype)));
    o->mutable_shape()->Add(t.shape.begin(), t.shape.end());
    if (!raw) {
      ToContents(t, o->mutable_contents());
    } else if (t.datatype == DataType::kBytes) {
      std::string* bytes = out->add_raw_output_contents();
      for (const auto& s : t.strings) {
        const uint32_t n = static_cast<uint32_t>(s.size());
        bytes->append(reinterpret_cast<const char*>(&n), 4);
        bytes->append(s);
      }
    } else {
      out->add_raw_output_contents(std::move(t.raw));
    }
  }
}

}  // namespace modelgate
