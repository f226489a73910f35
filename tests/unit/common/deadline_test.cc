#include "common/deadline.h"

#include <gtest/gtest.h>

#include <limits>

namespace modelgate {
namespace {

using std::chrono::microseconds;
using std::chrono::system_clock;

const SteadyTime kNow = SteadyTime() + std::chrono::hours(100);

TEST(DeadlineTest, HugeTimeoutsSaturateInsteadOfWrappingIntoThePast) {
  EXPECT_EQ(DeadlineAfter(kNow, microseconds(1500)), kNow + microseconds(1500));
  for (int64_t us : {std::numeric_limits<int64_t>::max(), int64_t{10000000000000000}}) {
    const SteadyTime d = DeadlineAfter(kNow, microseconds(us));
    EXPECT_GT(d, kNow) << us;
    EXPECT_EQ(d, kNow + kMaxClientTimeout) << us;
  }
}

TEST(DeadlineTest, SystemDeadlinesConvertWithoutOverflow) {
  const system_clock::time_point sys_now = system_clock::time_point() + std::chrono::hours(1000);
  EXPECT_EQ(SteadyDeadline(sys_now + std::chrono::seconds(2), sys_now, kNow),
            kNow + std::chrono::seconds(2));
  EXPECT_EQ(
      SteadyDeadline(system_clock::time_point::max() - std::chrono::seconds(1), sys_now, kNow),
      kNow + kMaxClientTimeout);
  EXPECT_LT(SteadyDeadline(system_clock::time_point::min(), sys_now, kNow), kNow);
  EXPECT_LT(SteadyDeadline(sys_now - std::chrono::seconds(1), sys_now, kNow), kNow);
}

}  // namespace
}  // namespace modelgate
