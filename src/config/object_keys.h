// The key tables of config.json's nested objects: inputs/outputs entries,
// circuit_breaker, rate_limit, recycle, dynamic_batching, limits and
// response_cache. The
// top-level table (model_config_keys.h) reads each through its kObject key.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "config/config_keys.h"
#include "modelgate/model_config.h"

namespace modelgate {

std::span<const Key<TensorSpec>> TensorSpecKeys();
std::span<const Key<CircuitBreakerConfig>> CircuitBreakerKeys();
// rate_limit, recycle and dynamic_batching set fields of ModelConfig itself.
std::span<const Key<ModelConfig>> RateLimitKeys();
std::span<const Key<ModelConfig>> RecycleKeys();
std::span<const Key<ModelConfig>> BatchingKeys();
std::span<const Key<ResourceLimits>> ResourceLimitKeys();
std::span<const Key<ResponseCacheConfig>> ResponseCacheKeys();

// An "inputs" or "outputs" array: each entry by TensorSpecKeys, names unique.
bool ParseTensors(Checker& c, const nlohmann::json& j, const std::string& path,
                  std::vector<TensorSpec>* out);

}  // namespace modelgate
