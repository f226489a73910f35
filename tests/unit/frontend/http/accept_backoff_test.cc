#include "frontend/http/accept_backoff.h"

#include <gtest/gtest.h>

namespace modelgate {
namespace {

using std::chrono::milliseconds;

TEST(AcceptBackoffTest, DelayDoublesUpToTheCapAndASuccessStartsOver) {
  AcceptBackoff b;
  const auto t = AcceptBackoff::Clock::time_point{};
  EXPECT_EQ(b.OnFailure(t).delay, milliseconds(50));
  EXPECT_EQ(b.OnFailure(t).delay, milliseconds(100));
  EXPECT_EQ(b.OnFailure(t).delay, milliseconds(200));
  EXPECT_EQ(b.OnFailure(t).delay, milliseconds(400));
  EXPECT_EQ(b.OnFailure(t).delay, milliseconds(800));
  EXPECT_EQ(b.OnFailure(t).delay, milliseconds(1000));
  EXPECT_EQ(b.OnFailure(t).delay, milliseconds(1000));
  b.OnSuccess();
  EXPECT_EQ(b.OnFailure(t).delay, milliseconds(50));
}

TEST(AcceptBackoffTest, LogsOneLinePerIntervalCountingTheOthers) {
  AcceptBackoff b;
  auto t = AcceptBackoff::Clock::time_point{} + std::chrono::hours(1);
  auto first = b.OnFailure(t);
  EXPECT_TRUE(first.log);
  EXPECT_EQ(first.suppressed, 0u);
  int logged = 0;
  for (int i = 0; i < 100; ++i) {
    t += milliseconds(50);  // 5 s of failures: no line
    logged += b.OnFailure(t).log;
  }
  EXPECT_EQ(logged, 0);
  t += AcceptBackoff::kLogInterval;
  auto next = b.OnFailure(t);
  EXPECT_TRUE(next.log);
  EXPECT_EQ(next.suppressed, 100u);
  EXPECT_FALSE(b.OnFailure(t).log);
}

}  // namespace
}  // namespace modelgate
