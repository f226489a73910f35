#include "common/retry_after.h"

#include <gtest/gtest.h>

namespace modelgate {
namespace {

using std::chrono::milliseconds;

TEST(RetryAfterTest, RoundsUpToWholeSecondsAndNeverAsksForLessThanTheDefault) {
  EXPECT_EQ(RetryAfterSeconds(milliseconds(0)), kRetryAfterSeconds);
  EXPECT_EQ(RetryAfterSeconds(milliseconds(-5)), kRetryAfterSeconds);
  EXPECT_EQ(RetryAfterSeconds(milliseconds(1)), 1);
  EXPECT_EQ(RetryAfterSeconds(milliseconds(1000)), 1);
  EXPECT_EQ(RetryAfterSeconds(milliseconds(1001)), 2);
  EXPECT_EQ(RetryAfterSeconds(milliseconds(29'500)), 30);
  EXPECT_EQ(RetryAfterSeconds(milliseconds::max()), std::numeric_limits<int>::max());
}

}  // namespace
}  // namespace modelgate
