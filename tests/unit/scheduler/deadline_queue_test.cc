#include "scheduler/deadline_queue.h"

#include <gtest/gtest.h>

namespace modelgate {
namespace {

using namespace std::chrono_literals;

TEST(DeadlineQueueTest, PopsInFifoOrder) {
  DeadlineQueue<int> q;
  q.Push(1, std::nullopt, 10);
  q.Push(2, std::nullopt, 20);
  EXPECT_EQ(q.PopFront(), 10);
  EXPECT_EQ(q.PopFront(), 20);
  EXPECT_FALSE(q.PopFront().has_value());
}

TEST(DeadlineQueueTest, ExpiresOnlyEntriesWhoseDeadlinePassed) {
  FakeClock clock;
  DeadlineQueue<int> q;
  q.Push(1, clock.Now() + 100ms, 1);
  q.Push(2, std::nullopt, 2);
  q.Push(3, clock.Now() + 50ms, 3);
  q.Push(4, clock.Now() + 300ms, 4);
  EXPECT_EQ(q.NextDeadline(), clock.Now() + 50ms);
  clock.Advance(100ms);
  EXPECT_EQ(q.TakeExpired(clock.Now()), (std::vector<int>{1, 3}));
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.NextDeadline(), clock.Now() + 200ms);
  EXPECT_EQ(q.PopFront(), 2);
}

TEST(DeadlineQueueTest, RemovesByTicketForCancellation) {
  DeadlineQueue<int> q;
  q.Push(7, std::nullopt, 70);
  q.Push(8, std::nullopt, 80);
  EXPECT_EQ(q.Remove(7), 70);
  EXPECT_FALSE(q.Remove(7).has_value());
  EXPECT_EQ(q.TakeAll(), std::vector<int>{80});
  EXPECT_TRUE(q.empty());
}

}  // namespace
}  // namespace modelgate
