#include "frontend/http/connection_slots.h"

#include <gtest/gtest.h>

#include <vector>

namespace modelgate {
namespace {

TEST(ConnectionSlotsTest, GivesOutSlotsUpToTheLimitThenRefusesWhenNoneIsIdle) {
  auto slots = ConnectionSlots::Create(2);
  auto a = slots->Acquire();
  auto b = slots->Acquire();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(slots->open(), 2u);
  EXPECT_EQ(slots->Acquire(), nullptr);  // both busy
  b.reset();
  EXPECT_EQ(slots->open(), 1u);
  EXPECT_NE(slots->Acquire(), nullptr);
}

TEST(ConnectionSlotsTest, FullServerClosesTheConnectionIdleLongestForANewOne) {
  auto slots = ConnectionSlots::Create(3);
  std::vector<int> closed;
  auto a = slots->Acquire();
  auto b = slots->Acquire();
  auto c = slots->Acquire();
  b->SetIdle([&] { closed.push_back(2); });
  a->SetIdle([&] { closed.push_back(1); });
  c->SetIdle([&] { closed.push_back(3); });
  auto d = slots->Acquire();
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(closed, std::vector<int>{2});  // b went idle first
  EXPECT_TRUE(b->evicted());
  EXPECT_EQ(slots->open(), 3u);
  EXPECT_EQ(slots->idle(), 2u);
  // The evicted connection ends later; its slot is not freed twice.
  b.reset();
  EXPECT_EQ(slots->open(), 3u);
}

TEST(ConnectionSlotsTest, BusyConnectionsAreNeverEvicted) {
  auto slots = ConnectionSlots::Create(2);
  int closed = 0;
  auto a = slots->Acquire();
  auto b = slots->Acquire();
  a->SetIdle([&] { ++closed; });
  a->SetBusy();  // a request arrived
  EXPECT_EQ(slots->Acquire(), nullptr);
  EXPECT_EQ(closed, 0);
  EXPECT_FALSE(slots->EvictOldestIdle());
}

TEST(ConnectionSlotsTest, GoingIdleAgainMovesAConnectionToTheBackOfTheLine) {
  auto slots = ConnectionSlots::Create(2);
  std::vector<int> closed;
  auto a = slots->Acquire();
  auto b = slots->Acquire();
  a->SetIdle([&] { closed.push_back(1); });
  b->SetIdle([&] { closed.push_back(2); });
  a->SetBusy();
  a->SetIdle([&] { closed.push_back(1); });  // answered, keep-alive again
  EXPECT_TRUE(slots->EvictOldestIdle());
  EXPECT_EQ(closed, std::vector<int>{2});
}

TEST(ConnectionSlotsTest, ReleasingAnIdleConnectionTakesItOutOfTheLine) {
  auto slots = ConnectionSlots::Create(1);
  int closed = 0;
  auto a = slots->Acquire();
  a->SetIdle([&] { ++closed; });
  a.reset();
  EXPECT_EQ(slots->idle(), 0u);
  EXPECT_EQ(slots->open(), 0u);
  EXPECT_FALSE(slots->EvictOldestIdle());
  EXPECT_EQ(closed, 0);
}

TEST(ConnectionSlotsTest, SlotsOutliveTheirOwnersHandle) {
  auto slots = ConnectionSlots::Create(1);
  auto a = slots->Acquire();
  slots.reset();  // the server is gone; the session still ends cleanly
  a->SetIdle([] {});
  a.reset();
  SUCCEED();
}

}  // namespace
}  // namespace modelgate
