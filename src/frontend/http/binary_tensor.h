// Triton's binary tensor data extension for the V2 REST infer endpoint
// (Triton docs/protocol/extension_binary_data.md): a body is a JSON document
// of Inference-Header-Content-Length bytes followed by the binary data of
// the inputs that name a "binary_data_size" parameter, in input order.
// Binary data is little-endian, row-major, unpadded; BOOL is one byte 0/1;
// a BYTES element is a 4-byte little-endian unsigned length and its bytes.
// Responses use the same layout for the outputs the client asked for as
// binary (BinaryOutputs, inference.h).
//
// Pure functions; thread-safe. Nothing is sized from a client's claim before
// it is checked against the bytes actually present.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "modelgate/inference.h"
#include "modelgate/status.h"
#include "modelgate/tensor.h"

namespace modelgate {

// The request and response header giving the JSON part's length.
inline constexpr char kInferHeaderContentLength[] = "Inference-Header-Content-Length";
// The length prefix of one BYTES element in binary form.
inline constexpr size_t kBytesLengthPrefix = 4;
// Digits read from an Inference-Header-Content-Length value (2^64 has 20).
inline constexpr size_t kMaxInferHeaderLengthDigits = 20;

// The header's value as a byte count: one or more decimal digits and nothing
// else, at most kMaxInferHeaderLengthDigits, no overflow. Whether it fits the
// body is the parser's check (it knows the body).
StatusOr<size_t> ParseInferHeaderLength(std::string_view value);

// One entry of "inputs" (any JSON value; only an object has parameters):
// its parameters.binary_data_size, nullopt without one. INVALID_ARGUMENT
// naming the input (or inputs[index]) unless it is a non-negative integer.
StatusOr<std::optional<uint64_t>> InputBinaryDataSize(const nlohmann::json& input, size_t index);

// Checks the inputs' binary_data_size against the `binary` bytes after the
// JSON before any input is decoded: each fits what remains and together
// they are exactly `binary`. Without the header (`has_header` false) no
// input may name one. `inputs` is the request's "inputs" array.
Status CheckBinaryDataSizes(const nlohmann::json& inputs, bool has_header, size_t binary);

// The request's parameters.binary_data_output, and one entry of "outputs"
// (an object with a string "name") and its parameters.binary_data, into
// `binary`. Each must be a bool when present; INVALID_ARGUMENT otherwise.
Status ReadBinaryDataOutput(const nlohmann::json& request_parameters, BinaryOutputs& binary);
Status ReadOutputBinaryData(const nlohmann::json& output, BinaryOutputs& binary);

// Fills `t` (name, datatype and shape set, shape already validated) from
// `bytes`, its binary data: exactly element-count x element-size bytes for a
// fixed-size datatype; for BYTES, length-prefixed elements, exactly as many
// as the shape holds, each prefix complete and within `bytes`. Errors are
// INVALID_ARGUMENT naming the input and what is wrong.
Status DecodeBinaryTensor(std::string_view bytes, Tensor& t);

// Bytes `t` (a validated worker output) takes in binary form; INTERNAL
// naming `model` and the output for a BYTES element too long for its 4-byte
// prefix.
StatusOr<size_t> BinaryTensorSize(const Tensor& t, std::string_view model);
// Appends `t` in binary form (BinaryTensorSize bytes) to `out`.
void AppendBinaryTensor(const Tensor& t, std::string& out);

}  // namespace modelgate
