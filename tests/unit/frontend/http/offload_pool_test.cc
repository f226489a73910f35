#include "frontend/http/offload_pool.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <future>
#include <thread>
#include <vector>

namespace modelgate {
namespace {

TEST(OffloadPoolTest, RunsWorkOffTheIoThreadAndHandsTheResultBackOnIt) {
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);  // as in the daemon
  OffloadPool pool(io, 1, 1);
  std::thread::id worker, answered;
  int result = 0;
  ASSERT_TRUE(pool.Submit(
      [&] {
        worker = std::this_thread::get_id();
        return 42;
      },
      [&](int r) {
        answered = std::this_thread::get_id();
        result = r;
        io.stop();
      }));
  io.run();  // this thread is the io thread
  EXPECT_EQ(result, 42);
  EXPECT_EQ(answered, std::this_thread::get_id());
  EXPECT_NE(worker, std::this_thread::get_id());
  EXPECT_EQ(pool.pending(), 0u);
}

TEST(OffloadPoolTest, RefusesWorkBeyondMaxPendingUntilAJobFinishes) {
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  OffloadPool pool(io, 1, 2);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::promise<void> started;
  int done = 0;
  auto on_done = [&](int) {
    if (++done == 2) io.stop();
  };
  ASSERT_TRUE(pool.Submit(
      [&, gate] {
        started.set_value();
        gate.wait();
        return 1;
      },
      on_done));
  ASSERT_TRUE(pool.Submit(
      [gate] {
        gate.wait();
        return 2;
      },
      on_done));  // queued
  started.get_future().wait();
  EXPECT_EQ(pool.pending(), 2u);
  EXPECT_FALSE(pool.Submit([] { return 3; }, on_done));  // saturated: nothing runs
  release.set_value();
  io.run();
  EXPECT_EQ(done, 2);
  EXPECT_EQ(pool.pending(), 0u);
  bool ran = false;
  EXPECT_TRUE(pool.Submit([] { return 4; },
                          [&](int) {
                            ran = true;
                            io.stop();
                          }));
  io.restart();
  io.run();
  EXPECT_TRUE(ran);
}

TEST(OffloadPoolTest, DefaultsToOneThreadPerCoreAndABoundedQueue) {
  boost::asio::io_context io;
  OffloadPool pool(io);
  EXPECT_GE(pool.threads(), 1u);
  EXPECT_LE(pool.threads(), OffloadPool::kMaxThreads);
  EXPECT_EQ(pool.max_pending(), pool.threads() * OffloadPool::kMaxPendingPerThread);
}

}  // namespace
}  // namespace modelgate
