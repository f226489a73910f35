#include "scheduler/deadline_queue.h"

#include <gtest/gtest.h>

namespace modelgate {
namespace {

using namespace std::chrono_literals;

const SteadyTime kT0 = SteadyTime() + std::chrono::hours(1);

TEST(DeadlineQueueTest, PopsInFifoOrder) {
  DeadlineQueue<int> q;
  q.Push(1, std::nullopt, 10);
  q.Push(2, kT0 + 1ms, 20);  // a deadline does not change the order of service
  q.Push(3, std::nullopt, 30);
  EXPECT_EQ(q.Front(), 10);
  EXPECT_EQ(q.PopFront(), 10);
  EXPECT_EQ(q.PopFront(), 20);
  EXPECT_EQ(q.PopFront(), 30);
  EXPECT_FALSE(q.PopFront().has_value());
  EXPECT_FALSE(q.NextDeadline().has_value());  // popped entries leave the deadline index
}

TEST(DeadlineQueueTest, PushFrontGoesBeforeEveryEntryAndKeepsItsDeadline) {
  DeadlineQueue<int> q;
  q.Push(1, std::nullopt, 10);
  q.PushFront(2, kT0 + 2ms, 20);
  q.PushFront(3, kT0 + 1ms, 30);  // the latest PushFront is the head
  q.Push(4, std::nullopt, 40);
  EXPECT_EQ(q.NextDeadline(), kT0 + 1ms);
  EXPECT_EQ(q.TakeExpired(kT0 + 2ms), (std::vector<int>{30, 20}));  // in queue order
  EXPECT_EQ(q.PopFront(), 10);
  EXPECT_EQ(q.Remove(4), 40);
  EXPECT_TRUE(q.empty());
}

TEST(DeadlineQueueTest, ExpiresOnlyEntriesWhoseDeadlinePassedInQueueOrder) {
  DeadlineQueue<int> q;
  q.Push(1, kT0 + 100ms, 1);
  q.Push(2, std::nullopt, 2);
  q.Push(3, kT0 + 50ms, 3);
  q.Push(4, kT0 + 300ms, 4);
  q.Push(5, kT0 + 100ms, 5);  // the same deadline as 1
  EXPECT_EQ(q.NextDeadline(), kT0 + 50ms);
  EXPECT_TRUE(q.TakeExpired(kT0 + 49ms).empty());
  EXPECT_EQ(q.TakeExpired(kT0 + 100ms), (std::vector<int>{1, 3, 5}));  // queue order
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.NextDeadline(), kT0 + 300ms);
  EXPECT_EQ(q.PopFront(), 2);
  EXPECT_EQ(q.TakeExpired(kT0 + 1h), std::vector<int>{4});
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(q.NextDeadline().has_value());
}

TEST(DeadlineQueueTest, CancellingTheEarliestDeadlineMovesNextDeadline) {
  DeadlineQueue<int> q;
  q.Push(7, kT0 + 10ms, 70);
  q.Push(8, kT0 + 20ms, 80);
  q.Push(9, std::nullopt, 90);
  EXPECT_EQ(q.Remove(7), 70);
  EXPECT_FALSE(q.Remove(7).has_value());  // a ticket leaves once
  EXPECT_EQ(q.NextDeadline(), kT0 + 20ms);
  EXPECT_EQ(q.Remove(8), 80);
  EXPECT_FALSE(q.NextDeadline().has_value());
  EXPECT_TRUE(q.TakeExpired(kT0 + 1h).empty());  // cancelled entries never expire
  EXPECT_EQ(q.TakeAll(), std::vector<int>{90});
  EXPECT_TRUE(q.empty());
}

TEST(DeadlineQueueTest, CancelInTheMiddleKeepsTheOrderOfTheRest) {
  DeadlineQueue<int> q;
  for (int i = 1; i <= 5; ++i) q.Push(i, kT0 + std::chrono::milliseconds(10 * (6 - i)), i);
  EXPECT_EQ(q.NextDeadline(), kT0 + 10ms);  // the last pushed
  EXPECT_EQ(q.Remove(3), 3);
  EXPECT_EQ(q.Remove(5), 5);
  EXPECT_EQ(q.NextDeadline(), kT0 + 20ms);
  std::vector<int> order;
  q.VisitFromFront([&](int v) {
    order.push_back(v);
    return true;
  });
  EXPECT_EQ(order, (std::vector<int>{1, 2, 4}));
  // Tickets are reusable once their entry has left.
  q.Push(3, std::nullopt, 33);
  EXPECT_EQ(q.Remove(3), 33);
}

TEST(DeadlineQueueTest, VisitStopsWhenAsked) {
  DeadlineQueue<int> q;
  for (int i = 0; i < 4; ++i) q.Push(i, std::nullopt, i);
  int seen = 0;
  q.VisitFromFront([&](int) { return ++seen < 2; });
  EXPECT_EQ(seen, 2);
  EXPECT_EQ(q.size(), 4u);  // visiting takes nothing
}

}  // namespace
}  // namespace modelgate
