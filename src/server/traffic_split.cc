#include "server/traffic_split.h"

namespace modelgate {

namespace {

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

int64_t PickVersion(const std::map<int64_t, int64_t>& weights, std::string_view route_key,
                    uint64_t sequence) {
  uint64_t total = 0;
  for (const auto& [v, w] : weights) total += static_cast<uint64_t>(w > 0 ? w : 0);
  if (total == 0) return weights.empty() ? 0 : weights.rbegin()->first;
  const uint64_t draw =
      (route_key.empty() ? SplitMix64(sequence) : SplitMix64(Fnv1a(route_key))) % total;
  uint64_t upto = 0;
  for (const auto& [v, w] : weights) {
    if (w <= 0) continue;
    upto += static_cast<uint64_t>(w);
    if (draw < upto) return v;
  }
  return weights.rbegin()->first;
}

}  // namespace modelgate
