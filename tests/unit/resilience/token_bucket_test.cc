#include "resilience/token_bucket.h"

#include <gtest/gtest.h>

#include "support/simulated_time_source.h"

namespace modelgate {
namespace {

using namespace std::chrono_literals;

TEST(TokenBucketTest, AllowsBurstThenRefillsAtRate) {
  boost::asio::io_context io;
  testing::SimulatedTimeSource clock{io};
  TokenBucket b(/*rate=*/10, /*burst=*/3, clock);
  EXPECT_TRUE(b.TryTake());
  EXPECT_TRUE(b.TryTake());
  EXPECT_TRUE(b.TryTake());
  EXPECT_FALSE(b.TryTake());
  clock.Advance(100ms);  // one token at 10/s
  EXPECT_TRUE(b.TryTake());
  EXPECT_FALSE(b.TryTake());
  clock.Advance(10s);  // refills to the burst, not beyond
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(b.TryTake());
  EXPECT_FALSE(b.TryTake());
}

}  // namespace
}  // namespace modelgate
