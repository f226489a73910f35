#include "resilience/circuit_breaker.h"

#include <gtest/gtest.h>

#include "support/simulated_time_source.h"

namespace modelgate {
namespace {

using namespace std::chrono_literals;
using State = CircuitBreaker::State;

CircuitBreakerConfig Config() {
  CircuitBreakerConfig c;
  c.window_size = 10;
  c.minimum_calls = 4;
  c.failure_rate_threshold = 50;
  c.open_duration = 30s;
  c.half_open_calls = 2;
  return c;
}

TEST(CircuitBreakerTest, StaysClosedBelowMinimumCalls) {
  boost::asio::io_context io;
  testing::SimulatedTimeSource clock{io};
  CircuitBreaker b(Config(), clock);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(b.TryAcquire());
    b.OnFailure();
  }
  EXPECT_EQ(b.state(), State::kClosed);
}

TEST(CircuitBreakerTest, OpensAfterFailureRateCrossesThreshold) {
  boost::asio::io_context io;
  testing::SimulatedTimeSource clock{io};
  CircuitBreaker b(Config(), clock);
  b.OnSuccess();
  b.OnSuccess();
  b.OnFailure();
  EXPECT_EQ(b.state(), State::kClosed);
  b.OnFailure();  // 2 of 4 = 50%
  EXPECT_EQ(b.state(), State::kOpen);
  EXPECT_FALSE(b.TryAcquire());
  EXPECT_EQ(b.RemainingOpen(), 30s);
  clock.Advance(10s);
  EXPECT_EQ(b.RemainingOpen(), 20s);
}

TEST(CircuitBreakerTest, HalfOpenAfterOpenDurationAdmitsOnlyTheProbes) {
  boost::asio::io_context io;
  testing::SimulatedTimeSource clock{io};
  CircuitBreaker b(Config(), clock);
  for (int i = 0; i < 4; ++i) b.OnFailure();
  ASSERT_EQ(b.state(), State::kOpen);
  clock.Advance(30s);
  EXPECT_EQ(b.state(), State::kHalfOpen);
  EXPECT_TRUE(b.TryAcquire());
  EXPECT_TRUE(b.TryAcquire());
  EXPECT_FALSE(b.TryAcquire());  // two probes only
  b.Release();                   // one probe never ran: its permit comes back
  EXPECT_TRUE(b.TryAcquire());
}

TEST(CircuitBreakerTest, ProbesAllSucceedingCloseIt) {
  boost::asio::io_context io;
  testing::SimulatedTimeSource clock{io};
  CircuitBreaker b(Config(), clock);
  for (int i = 0; i < 4; ++i) b.OnFailure();
  clock.Advance(31s);
  ASSERT_TRUE(b.TryAcquire());
  ASSERT_TRUE(b.TryAcquire());
  b.OnSuccess();
  EXPECT_EQ(b.state(), State::kHalfOpen);
  b.OnSuccess();
  EXPECT_EQ(b.state(), State::kClosed);
  EXPECT_EQ(b.FailureRate(), 0.0);  // a fresh window
}

TEST(CircuitBreakerTest, AFailingProbeReopensIt) {
  boost::asio::io_context io;
  testing::SimulatedTimeSource clock{io};
  CircuitBreaker b(Config(), clock);
  for (int i = 0; i < 4; ++i) b.OnFailure();
  clock.Advance(30s);
  ASSERT_TRUE(b.TryAcquire());
  b.OnFailure();
  EXPECT_EQ(b.state(), State::kOpen);
  EXPECT_EQ(b.RemainingOpen(), 30s);
}

TEST(CircuitBreakerTest, CountWindowForgetsOldOutcomes) {
  boost::asio::io_context io;
  testing::SimulatedTimeSource clock{io};
  auto c = Config();
  c.window_size = 4;
  CircuitBreaker b(c, clock);
  b.OnFailure();
  for (int i = 0; i < 4; ++i) b.OnSuccess();  // the failure slides out
  EXPECT_EQ(b.FailureRate(), 0.0);
  b.OnFailure();
  EXPECT_EQ(b.FailureRate(), 25.0);
  EXPECT_EQ(b.state(), State::kClosed);
}

TEST(CircuitBreakerTest, TimeWindowForgetsOutcomesOlderThanTheWindow) {
  boost::asio::io_context io;
  testing::SimulatedTimeSource clock{io};
  auto c = Config();
  c.window = CircuitBreakerConfig::Window::kTime;
  c.window_size = 10;  // seconds
  CircuitBreaker b(c, clock);
  b.OnFailure();
  b.OnFailure();
  b.OnFailure();
  clock.Advance(11s);
  b.OnSuccess();  // the three failures are out of the window now
  EXPECT_EQ(b.FailureRate(), 0.0);
  EXPECT_EQ(b.state(), State::kClosed);
}

TEST(CircuitBreakerTest, DisabledNeverRejects) {
  boost::asio::io_context io;
  testing::SimulatedTimeSource clock{io};
  auto c = Config();
  c.enabled = false;
  CircuitBreaker b(c, clock);
  for (int i = 0; i < 100; ++i) b.OnFailure();
  EXPECT_TRUE(b.TryAcquire());
  EXPECT_EQ(b.state(), State::kClosed);
}

}  // namespace
}  // namespace modelgate
