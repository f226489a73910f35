#include "server/traffic_split.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace modelgate {
namespace {

TEST(TrafficSplitTest, ARouteKeyAlwaysGetsTheSameVersion) {
  const std::map<int64_t, int64_t> weights = {{1, 90}, {2, 10}};
  for (int k = 0; k < 200; ++k) {
    const std::string key = "user-" + std::to_string(k);
    const int64_t first = PickVersion(weights, key, 0);
    for (uint64_t seq = 1; seq < 20; ++seq) EXPECT_EQ(PickVersion(weights, key, seq), first);
  }
}

TEST(TrafficSplitTest, DrawsFollowTheWeights) {
  const std::map<int64_t, int64_t> weights = {{1, 90}, {2, 10}};
  std::map<int64_t, int> seen;
  for (uint64_t seq = 0; seq < 10000; ++seq) ++seen[PickVersion(weights, "", seq)];
  EXPECT_GT(seen[1], 8500);
  EXPECT_GT(seen[2], 500);
  EXPECT_EQ(seen[1] + seen[2], 10000);

  std::map<int64_t, int> keyed;
  for (int k = 0; k < 10000; ++k) ++keyed[PickVersion(weights, "k" + std::to_string(k), 0)];
  EXPECT_GT(keyed[1], 8500);
  EXPECT_GT(keyed[2], 500);
}

TEST(TrafficSplitTest, AZeroWeightNeverGetsTraffic) {
  const std::map<int64_t, int64_t> weights = {{1, 0}, {2, 100}, {3, 0}};
  for (uint64_t seq = 0; seq < 1000; ++seq) EXPECT_EQ(PickVersion(weights, "", seq), 2);
  for (int k = 0; k < 1000; ++k) EXPECT_EQ(PickVersion(weights, std::to_string(k), 0), 2);
}

TEST(TrafficSplitTest, StickyKeysMoveOnlyWhenTheirBucketMoves) {
  // Shifting 10% more to version 2 moves keys from 1 to 2, never back.
  const std::map<int64_t, int64_t> before = {{1, 90}, {2, 10}};
  const std::map<int64_t, int64_t> after = {{1, 80}, {2, 20}};
  for (int k = 0; k < 2000; ++k) {
    const std::string key = std::to_string(k);
    if (PickVersion(before, key, 0) == 2) {
      EXPECT_EQ(PickVersion(after, key, 0), 2);
    }
  }
}

}  // namespace
}  // namespace modelgate
