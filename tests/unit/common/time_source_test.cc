// The two TimeSources: the simulated one the unit tests rely on (due timers
// run in time order as time advances, never on the wall clock) and the Asio
// one the daemon runs on (checked only with timers already due: no waits).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <string>
#include <vector>

#include "common/asio_time_source.h"
#include "support/simulated_time_source.h"

namespace modelgate {
namespace {

using namespace std::chrono_literals;
using testing::SimulatedTimeSource;

TEST(SimulatedTimeSourceTest, AdvanceRunsDueTimersInTimeOrderAtTheirTime) {
  boost::asio::io_context io;
  SimulatedTimeSource time(io);
  const SteadyTime t0 = time.Now();
  std::vector<std::pair<std::string, SteadyTime>> fired;
  auto a = time.CreateTimer([&] { fired.emplace_back("a", time.Now()); });
  auto b = time.CreateTimer([&] { fired.emplace_back("b", time.Now()); });
  auto c = time.CreateTimer([&] { fired.emplace_back("c", time.Now()); });
  a->Enable(30ms);
  b->Enable(10ms);
  c->Enable(50ms);
  time.Advance(29ms);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_TRUE(a->enabled());
  EXPECT_FALSE(b->enabled());
  time.Advance(1ms);
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_EQ(fired[0], std::make_pair(std::string("b"), t0 + 10ms));
  EXPECT_EQ(fired[1], std::make_pair(std::string("a"), t0 + 30ms));
  EXPECT_EQ(time.Now(), t0 + 30ms);
  EXPECT_TRUE(c->enabled());
}

TEST(SimulatedTimeSourceTest, TimersArmedByCallbacksRunWithinTheSameAdvance) {
  boost::asio::io_context io;
  SimulatedTimeSource time(io);
  const SteadyTime t0 = time.Now();
  std::vector<SteadyTime> ticks;
  TimerPtr timer;
  timer = time.CreateTimer([&] {
    ticks.push_back(time.Now());
    if (ticks.size() < 5) timer->Enable(10ms);  // re-arms itself
  });
  timer->Enable(10ms);
  time.Advance(35ms);
  EXPECT_EQ(ticks, (std::vector<SteadyTime>{t0 + 10ms, t0 + 20ms, t0 + 30ms}));
  time.Advance(1h);
  EXPECT_EQ(ticks.size(), 5u);
  EXPECT_EQ(ticks.back(), t0 + 50ms);
}

TEST(SimulatedTimeSourceTest, DisabledDestroyedAndReArmedTimersDoNotFireEarly) {
  boost::asio::io_context io;
  SimulatedTimeSource time(io);
  int fired = 0;
  auto disabled = time.CreateTimer([&] { ++fired; });
  auto destroyed = time.CreateTimer([&] { ++fired; });
  auto rearmed = time.CreateTimer([&] { ++fired; });
  disabled->Enable(1ms);
  disabled->Disable();
  destroyed->Enable(1ms);
  destroyed.reset();
  rearmed->Enable(1ms);
  rearmed->Enable(20ms);  // forgets the earlier expiry
  time.Advance(10ms);
  EXPECT_EQ(fired, 0);
  EXPECT_EQ(time.pending_timers(), 1u);
  time.Advance(10ms);
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(time.pending_timers(), 0u);
}

TEST(SimulatedTimeSourceTest, ATimerDueNowFiresOnTheNextPollNotInsideEnable) {
  boost::asio::io_context io;
  SimulatedTimeSource time(io);
  int fired = 0;
  auto timer = time.CreateTimer([&] { ++fired; });
  timer->Enable(0ms);
  EXPECT_EQ(fired, 0);
  time.Poll();
  EXPECT_EQ(fired, 1);
  time.Poll();
  EXPECT_EQ(fired, 1);  // once
}

TEST(SimulatedTimeSourceTest, ACallbackMayDestroyItsOwnTimer) {
  boost::asio::io_context io;
  SimulatedTimeSource time(io);
  std::string seen;
  TimerPtr timer;
  timer = time.CreateTimer([&, tag = std::string("alive")] {
    timer.reset();
    seen = tag;  // the callback's captures outlive its timer until it returns
  });
  timer->Enable(1ms);
  time.Advance(1ms);
  EXPECT_EQ(seen, "alive");
  EXPECT_EQ(timer, nullptr);
}

TEST(AsioTimeSourceTest, DueTimerFiresOnceAndDisabledTimerNever) {
  boost::asio::io_context io;
  AsioTimeSource time(io);
  int fired = 0, disabled_fired = 0;
  auto timer = time.CreateTimer([&] { ++fired; });
  auto disabled = time.CreateTimer([&] { ++disabled_fired; });
  timer->EnableAt(time.Now() - 1s);  // already due: no waiting
  disabled->EnableAt(time.Now() - 1s);
  disabled->Disable();
  EXPECT_TRUE(timer->enabled());
  EXPECT_FALSE(disabled->enabled());
  io.run();  // returns once no work is left
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(disabled_fired, 0);
  EXPECT_FALSE(timer->enabled());
}

TEST(AsioTimeSourceTest, ReArmingForgetsTheEarlierExpiry) {
  boost::asio::io_context io;
  AsioTimeSource time(io);
  std::vector<int> fired;
  int arming = 0;
  auto timer = time.CreateTimer([&] { fired.push_back(arming); });
  arming = 1;
  timer->EnableAt(time.Now() - 2s);
  arming = 2;
  timer->EnableAt(time.Now() - 1s);  // the first wait completes as cancelled
  io.run();
  EXPECT_EQ(fired, std::vector<int>{2});
}

}  // namespace
}  // namespace modelgate
