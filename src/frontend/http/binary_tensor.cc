#include "frontend/http/binary_tensor.h"

#include <limits>
#include <nlohmann/json.hpp>

#include "config/json_tensor.h"

namespace modelgate {

using nlohmann::json;

namespace {

// "input 'x'" for errors, or "inputs[3]" for an entry without a string name.
std::string InputLabel(const json& in, size_t index) {
  auto name = in.is_object() ? in.find("name") : in.end();
  if (in.is_object() && name != in.end() && name->is_string()) {
    return "input '" + name->get<std::string>() + "'";
  }
  return "inputs[" + std::to_string(index) + "]";
}

uint32_t ReadLength(std::string_view bytes, size_t at) {
  uint32_t n = 0;
  for (size_t i = 0; i < kBytesLengthPrefix; ++i) {
    n |= uint32_t{static_cast<unsigned char>(bytes[at + i])} << (8 * i);
  }
  return n;
}

void AppendLength(uint32_t n, std::string& out) {
  for (size_t i = 0; i < kBytesLengthPrefix; ++i) {
    out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  }
}

Status DecodeBytes(std::string_view bytes, int64_t count, Tensor& t) {
  const std::string where = "input '" + t.name + "': binary BYTES data: ";
  size_t at = 0;
  // Grown per element, never reserved from the shape: each element consumes
  // at least its 4-byte prefix, so what is held stays proportional to `bytes`.
  while (at < bytes.size()) {
    const auto element = static_cast<int64_t>(t.strings.size());
    if (element == count) {
      return InvalidArgument(where + std::to_string(bytes.size() - at) +
                             " bytes remain after the " + std::to_string(count) +
                             " elements that shape " + ShapeString(t.shape) + " holds");
    }
    if (bytes.size() - at < kBytesLengthPrefix) {
      return InvalidArgument(where + "element " + std::to_string(element) +
                             " has a truncated length prefix (" +
                             std::to_string(bytes.size() - at) + " of " +
                             std::to_string(kBytesLengthPrefix) + " bytes)");
    }
    const uint32_t n = ReadLength(bytes, at);
    at += kBytesLengthPrefix;
    if (n > bytes.size() - at) {
      return InvalidArgument(where + "element " + std::to_string(element) + " declares " +
                             std::to_string(n) + " bytes, but only " +
                             std::to_string(bytes.size() - at) + " remain");
    }
    t.strings.emplace_back(bytes.substr(at, n));
    at += n;
  }
  if (static_cast<int64_t>(t.strings.size()) != count) {
    return InvalidArgument(where + "holds " + std::to_string(t.strings.size()) +
                           " elements, shape " + ShapeString(t.shape) + " needs " +
                           std::to_string(count));
  }
  return Status::Ok();
}

}  // namespace

StatusOr<size_t> ParseInferHeaderLength(std::string_view value) {
  auto bad = [&] {
    return InvalidArgument("header " + std::string(kInferHeaderContentLength) + ": '" +
                           std::string(value.substr(0, kMaxInferHeaderLengthDigits + 4)) +
                           "' is not a byte count (decimal digits only)");
  };
  if (value.empty() || value.size() > kMaxInferHeaderLengthDigits) return bad();
  size_t n = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return bad();
    const size_t digit = static_cast<size_t>(c - '0');
    if (n > (std::numeric_limits<size_t>::max() - digit) / 10) return bad();
    n = n * 10 + digit;
  }
  return n;
}

StatusOr<std::optional<uint64_t>> InputBinaryDataSize(const json& input, size_t index) {
  if (!input.is_object()) return std::optional<uint64_t>();
  auto params = input.find("parameters");
  if (params == input.end()) return std::optional<uint64_t>();
  const std::string who = InputLabel(input, index);
  if (!params->is_object()) return InvalidArgument(who + ": 'parameters' must be an object");
  auto size = params->find("binary_data_size");
  if (size == params->end()) return std::optional<uint64_t>();
  if (size->is_number_unsigned()) return std::optional<uint64_t>(size->get<uint64_t>());
  if (size->is_number_integer() && size->get<int64_t>() >= 0) {
    return std::optional<uint64_t>(static_cast<uint64_t>(size->get<int64_t>()));
  }
  return InvalidArgument(who +
                         ": parameters.binary_data_size must be a non-negative integer, got " +
                         DescribeJson(*size));
}

Status CheckBinaryDataSizes(const json& inputs, bool has_header, size_t binary) {
  uint64_t total = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto size = InputBinaryDataSize(inputs[i], i);
    if (!size.ok()) return size.status();
    if (!*size) continue;
    if (!has_header) {
      return InvalidArgument(
          InputLabel(inputs[i], i) + " has parameters.binary_data_size, but the request has no " +
          std::string(kInferHeaderContentLength) + " header saying where its JSON ends");
    }
    if (**size > binary - total) {  // total <= binary: checked at each step
      return InvalidArgument(InputLabel(inputs[i], i) + ": parameters.binary_data_size " +
                             std::to_string(**size) +
                             " runs past the end of the body: the inputs' sizes add up to " +
                             "more than the " + std::to_string(binary) + " bytes after the JSON");
    }
    total += **size;
  }
  if (has_header && total != binary) {
    return InvalidArgument("the body has " + std::to_string(binary) +
                           " bytes after the JSON, but the inputs' binary_data_size add up to " +
                           std::to_string(total));
  }
  return Status::Ok();
}

Status ReadBinaryDataOutput(const json& request_parameters, BinaryOutputs& binary) {
  auto flag = request_parameters.find("binary_data_output");
  if (flag == request_parameters.end()) return Status::Ok();
  if (!flag->is_boolean()) {
    return InvalidArgument("parameter 'binary_data_output' must be true or false, got " +
                           DescribeJson(*flag));
  }
  binary.all = flag->get<bool>();
  return Status::Ok();
}

Status ReadOutputBinaryData(const json& output, BinaryOutputs& binary) {
  const std::string& name = output.at("name").get_ref<const std::string&>();
  auto params = output.find("parameters");
  if (params == output.end()) return Status::Ok();
  if (!params->is_object()) {
    return InvalidArgument("output '" + name + "': 'parameters' must be an object");
  }
  auto flag = params->find("binary_data");
  if (flag == params->end()) return Status::Ok();
  if (!flag->is_boolean()) {
    return InvalidArgument("output '" + name +
                           "': parameters.binary_data must be true or false, got " +
                           DescribeJson(*flag));
  }
  (flag->get<bool>() ? binary.on : binary.off).push_back(name);
  return Status::Ok();
}

Status DecodeBinaryTensor(std::string_view bytes, Tensor& t) {
  const int64_t count = t.ElementCount();
  if (count < 0) {
    return InvalidArgument("input '" + t.name + "': shape " + ShapeString(t.shape) +
                           " is not a valid shape");
  }
  if (t.datatype == DataType::kBytes) return DecodeBytes(bytes, count, t);
  const size_t size = ElementSize(t.datatype);
  // Compared by division: count * size may not fit 64 bits.
  if (bytes.size() % size != 0 || bytes.size() / size != static_cast<uint64_t>(count)) {
    return InvalidArgument("input '" + t.name + "': parameters.binary_data_size is " +
                           std::to_string(bytes.size()) + ", but shape " + ShapeString(t.shape) +
                           " of " + std::string(DataTypeName(t.datatype)) + " needs " +
                           std::to_string(count) + " x " + std::to_string(size) + " bytes");
  }
  t.raw.assign(bytes.data(), bytes.size());
  return Status::Ok();
}

StatusOr<size_t> BinaryTensorSize(const Tensor& t, std::string_view model) {
  if (t.datatype != DataType::kBytes) return t.raw.size();
  size_t size = 0;
  for (size_t i = 0; i < t.strings.size(); ++i) {
    if (t.strings[i].size() > std::numeric_limits<uint32_t>::max()) {
      return Internal("model '" + std::string(model) + "' output '" + t.name + "': BYTES element " +
                      std::to_string(i) + " is too long for binary data");
    }
    size += kBytesLengthPrefix + t.strings[i].size();
  }
  return size;
}

void AppendBinaryTensor(const Tensor& t, std::string& out) {
  if (t.datatype != DataType::kBytes) {
    out += t.raw;
    return;
  }
  for (const std::string& s : t.strings) {
    AppendLength(static_cast<uint32_t>(s.size()), out);
    out += s;
  }
}

}  // namespace modelgate
