// Request parameters: the V2 request's `parameters` (REST body object, gRPC
// ModelInferRequest.parameters) that reach the model's predict function.
// Keys the daemon itself interprets (timeout, binary_data_output, ...) are
// listed once, in IsDaemonParameter, and never forwarded. Value type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>

#include "modelgate/status.h"

namespace modelgate {

// One value as the V2 protocol's InferParameter carries it (uint64 values
// that fit are int64; larger ones are refused by the front ends).
using ParameterValue = std::variant<bool, int64_t, double, std::string>;

// Ordered by key, so two requests' parameters compare with == (batching
// merges only requests with equal parameters) and reach the worker sorted.
using Parameters = std::map<std::string, ParameterValue, std::less<>>;

// Bounds on what a client may forward to a model.
inline constexpr size_t kMaxParameters = 64;
inline constexpr size_t kMaxParameterKeyBytes = 128;
inline constexpr size_t kMaxParameterValueBytes = 64 * 1024;

// True for the keys the daemon (or the protocol's own extensions) reads:
// they are consumed by the front ends and never reach a model.
bool IsDaemonParameter(std::string_view key);

// Checks a client's key before its value is copied: at most kMaxParameters
// keys (`count` already kept), key length, UTF-8 without control characters.
// INVALID_ARGUMENT naming the key (escaped and cut) and the limit.
Status CheckParameterKey(std::string_view key, size_t count);
// A string value: its size bound and UTF-8; INVALID_ARGUMENT naming the key.
Status CheckParameterString(std::string_view key, std::string_view value);

}  // namespace modelgate
