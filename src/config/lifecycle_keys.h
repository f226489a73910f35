// The keys of a model's lifecycle in config.json: "version_policy" (which
// version directories get workers), "traffic" (how unversioned requests are
// split between them) and "warmup" (requests every new worker answers before
// it counts as ready). The model's key table (model_config_keys.cc) calls
// these parsers; the README documents the tables.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_keys.h"
#include "modelgate/model_config.h"

namespace modelgate {

// version_policy's keys (exactly one is set), and those of its branches.
std::span<const Key<VersionPolicy>> VersionPolicyKeys();
std::span<const Key<VersionPolicy>> LatestPolicyKeys();
std::span<const Key<VersionPolicy>> SpecificPolicyKeys();
// The keys of each "warmup" entry.
std::span<const Key<WarmupRequest>> WarmupRequestKeys();

// True for a version directory's name: a positive integer of at most
// kMaxVersionDigits digits without a leading zero.
bool IsVersionName(std::string_view s);

bool ParseVersionPolicy(Checker& c, const nlohmann::json& j, const std::string& path,
                        VersionPolicy* out);
// {"<version>": weight, ...}: weights 0..kMaxTrafficWeight, at least one > 0.
bool ParseTraffic(Checker& c, const nlohmann::json& j, const std::string& path,
                  std::map<int64_t, int64_t>* out);
// At most kMaxWarmupRequests entries; each input decoded as a V2 JSON input
// (json_tensor.h), its data count matching its shape.
bool ParseWarmup(Checker& c, const nlohmann::json& j, const std::string& path,
                 std::vector<WarmupRequest>* out);

// One V2 JSON input `{name, datatype, shape, data}` at `at`
// ("warmup[0].inputs[1]") into `t`, its data count matching its shape.
bool ParseRequestInput(Checker& c, const nlohmann::json& j, const std::string& at, Tensor& t);
// A non-empty array of such inputs (warm-up and example requests).
bool ParseRequestInputs(Checker& c, const nlohmann::json& j, const std::string& path,
                        std::vector<Tensor>& out);
// `inputs` (at `request`, e.g. "examples[0].inputs") send each declared input
// of `m` exactly once (an optional one may be left out), with its declared
// datatype and a shape the declaration allows.
bool CheckRequestInputs(Checker& c, const ModelConfig& m, const std::string& request,
                        const std::vector<Tensor>& inputs);

// The rule across keys: every warm-up request sends each declared input
// exactly once, with its declared datatype and a shape the declaration allows.
bool CheckWarmupInputs(Checker& c, const ModelConfig& m);

}  // namespace modelgate
