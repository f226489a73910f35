// Which served version an unversioned request goes to, by the model's
// "traffic" weights. A route key (x-modelgate-route-key) always maps to the
// same version while the weights stay, on every replica: it is hashed with
// FNV-1a, not a per-process seed. Without a key, a per-request sequence
// number is mixed (splitmix64) into a draw, so the split follows the weights
// closely even over few requests.
#pragma once

#include <cstdint>
#include <map>
#include <string_view>

namespace modelgate {

// `weights`: version -> weight, at least one positive (checked at load).
// Returns the version whose cumulative weight range holds the draw.
int64_t PickVersion(const std::map<int64_t, int64_t>& weights, std::string_view route_key,
                    uint64_t sequence);

}  // namespace modelgate
