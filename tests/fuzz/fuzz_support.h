// What the four libFuzzer harnesses share: the fixed model configs a request
// is validated against, the echo model that turns a validated request into a
// response, and the oracle that every JSON answer parses back.
//
// A harness reports a finding by crashing: sanitizers do that for memory and
// undefined behaviour, Require() does it for a broken contract (invalid
// JSON out, an input that should have been rejected reaching the "worker").
// Every rejected input must come back as a Status, never as a crash.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/tensor_validation.h"
#include "modelgate/inference.h"
#include "modelgate/model_config.h"
#include "server/output_contract.h"
#include "server/request_validation.h"

namespace modelgate::fuzz {

// Aborts (a libFuzzer crash, input saved) when a contract does not hold.
inline void Require(bool ok, const char* contract, std::string_view detail = {}) {
  if (ok) return;
  std::fprintf(stderr, "fuzz contract broken: %s\n", contract);
  // The detail on one line, bytes outside printable ASCII as \xHH.
  for (unsigned char c : detail.substr(0, 2048)) {
    if (c >= 0x20 && c < 0x7F) {
      std::fputc(c, stderr);
    } else {
      std::fprintf(stderr, "\\x%02x", c);
    }
  }
  std::fputc('\n', stderr);
  std::abort();
}

// Every JSON body the daemon sends must parse back (RFC 8259, UTF-8).
inline void RequireJson(std::string_view text, const char* encoder) {
  Require(nlohmann::json::accept(text), encoder, text);
}

// Element count of a shape, or nullopt when a dim is negative or the
// product overflows int64.
inline std::optional<int64_t> CheckedCount(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0 || __builtin_mul_overflow(n, d, &n)) return std::nullopt;
  }
  return n;
}

// A V2 answer parses back and every output carries as many values as its
// shape says (no datatype silently encoded as an empty array).
inline void RequireV2Json(std::string_view text);

// An encoder may refuse (an error naming the output); what it does write
// must satisfy RequireV2Json.
inline void RequireV2Json(const StatusOr<std::string>& encoded) {
  if (encoded.ok()) RequireV2Json(std::string_view(encoded.value()));
}

inline void RequireV2Json(std::string_view text) {
  RequireJson(text, "EncodeV2InferResponse");
  const auto j = nlohmann::json::parse(text);
  for (const auto& out : j.at("outputs")) {
    const auto count = CheckedCount(out.at("shape").get<std::vector<int64_t>>());
    Require(count && out.at("data").size() == static_cast<size_t>(*count),
            "EncodeV2InferResponse: an output's data length differs from its shape",
            out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
}

// The decisions of issue 10 on what may reach a worker: rank at most
// kMaxRank, an element count that fits int64 and equals the data held, and
// no zero-element input.
inline constexpr size_t kMaxRank = kMaxTensorRank;

inline void RequireShapeSafe(const Tensor& t, bool allow_empty, const char* contract) {
  const auto count = CheckedCount(t.shape);
  Require(t.shape.size() <= kMaxRank && count && (allow_empty || *count > 0) &&
              t.HeldElements() == *count,
          contract, t.name + " " + ShapeString(t.shape));
}

// Every input of a request the daemon accepted, before it is queued.
inline void RequireInputsSafe(const std::vector<Tensor>& inputs) {
  for (const Tensor& t : inputs) {
    RequireShapeSafe(t, /*allow_empty=*/false,
                     "an accepted input breaks the rank / element-count / zero-size rules");
  }
}

// Request ids (V2 "id", gRPC id): empty, or 1..128 bytes of 0x21..0x7E.
inline void RequireValidId(const std::string& id) {
  bool ok = id.size() <= 128;
  for (unsigned char c : id) ok = ok && c >= 0x21 && c <= 0x7E;
  Require(ok, "an accepted request id breaks the id rule (1..128 bytes of 0x21..0x7E)", id);
}

inline TensorSpec Spec(std::string name, DataType type, std::vector<int64_t> shape) {
  return TensorSpec{std::move(name), type, std::move(shape)};
}

inline ModelConfig Model(std::string name, std::vector<TensorSpec> inputs,
                         std::vector<TensorSpec> outputs = {}, bool dataframe = false) {
  ModelConfig c;
  c.name = std::move(name);
  c.inputs = std::move(inputs);
  c.outputs = std::move(outputs);
  c.dataframe = dataframe;
  return c;
}

// The example models' configs, a model with one input of mixed datatypes
// and, for every datatype, a model taking one [-1, -1] input "x", so that
// fuzzed requests of any datatype can pass validation and reach an encoder.
inline const std::vector<ModelConfig>& RequestModels() {
  static const std::vector<ModelConfig> models = [] {
    std::vector<ModelConfig> m = {
        Model("mtcars_am", {Spec("wt", DataType::kFp64, {-1}), Spec("hp", DataType::kFp64, {-1})},
              {}, /*dataframe=*/true),
        Model("iris_species", {Spec("features", DataType::kFp64, {-1, 4})}),
        Model("mixed", {Spec("s", DataType::kBytes, {-1}), Spec("b", DataType::kBool, {-1, 2}),
                        Spec("n", DataType::kInt64, {-1, -1, -1})}),
    };
    for (int t = 0; t <= static_cast<int>(DataType::kBf16); ++t) {
      const auto type = static_cast<DataType>(t);
      m.push_back(Model("x_" + std::string(DataTypeName(type)), {Spec("x", type, {-1, -1})}));
    }
    return m;
  }();
  return models;
}

// The echo model: answers a validated request with its inputs as outputs,
// then keeps the requested ones as the core does (OutputContract).
inline StatusOr<InferResponse> Echo(const ModelConfig& config, const InferRequest& request) {
  InferResponse r;
  r.model = config.name;
  r.version = "1";
  r.id = request.id;
  r.outputs = request.inputs;
  static OutputContract contract;
  Status s = contract.Apply(config, 1, request.requested_outputs, std::nullopt, r.outputs);
  if (!s.ok()) return s;
  return r;
}

// The request as the core checks it before anything is queued; what passes
// must be safe to send to a worker.
inline bool Validates(const ModelConfig& config, const InferRequest& request) {
  if (!ValidateInputs(config, request.inputs).ok() ||
      !ValidateRequestedOutputs(config, request.requested_outputs).ok()) {
    return false;
  }
  RequireInputsSafe(request.inputs);
  return true;
}

}  // namespace modelgate::fuzz
