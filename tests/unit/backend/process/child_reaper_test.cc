// ChildReaper: a worker's process-group remnants and orphans die with it;
// orphans of live workers stay; KillRemainingDescendants leaves no child.
#include "backend/process/child_reaper.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <sstream>

#include "backend/process/subprocess.h"
#include "support/test_env.h"

namespace modelgate {
namespace {

using namespace std::chrono_literals;

bool Alive(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

std::optional<pid_t> ParentOf(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(stat.substr(close + 2));
  char state;
  pid_t ppid;
  if (!(rest >> state >> ppid)) return std::nullopt;
  return ppid;
}

// `pid` has become the `sleep` that `setsid sleep` or `env -i setsid sleep`
// starts, in a session of its own, and its execve() is over: /proc shows its
// environment (an empty one for env -i). Until then a group kill of its
// worker may still reach it, and its environment may read empty mid-exec.
bool SettledSleep(pid_t pid, bool empty_environment = false) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/comm");
  std::string comm;
  std::getline(f, comm);
  if (comm != "sleep" || ::getsid(pid) != pid) return false;
  const bool readable = ReadWorkerTag(pid).kind != WorkerTag::Kind::kUnreadable;
  return readable != empty_environment;
}

// A worker stand-in: `script` under /bin/sh; the first line it prints is a
// pid it started. The frame pipe stays open, so `cat <&3` blocks.
struct Shell {
  Subprocess sp;
  pid_t started = -1;

  static Shell Run(const std::string& script) {
    SpawnOptions o;
    o.argv = {"/bin/sh", "-c", script};
    o.env = {"PATH=/usr/bin:/bin"};
    auto spawned = Spawn(o);
    EXPECT_TRUE(spawned.ok()) << spawned.status().message();
    Shell s;
    s.sp = *spawned;
    pollfd p{s.sp.child_stdout, POLLIN, 0};
    std::string line;
    char c;
    while (::poll(&p, 1, 10000) == 1 && ::read(s.sp.child_stdout, &c, 1) == 1 && c != '\n') {
      line += c;
    }
    s.started = line.empty() ? -1 : std::stoi(line);
    return s;
  }
  void Close() const {
    for (int fd : {sp.frames_to_child, sp.frames_from_child, sp.child_stdout, sp.child_stderr}) {
      ::close(fd);
    }
  }
};

class OrphanModeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(BecomeChildSubreaper().ok());
    reaper_.emplace(io_, [this](pid_t pid) {
      if (pid == hide_pid_) ++reads_of_hidden_;
      if (pid == hide_pid_ && hide_reads_ > 0) {
        --hide_reads_;
        return WorkerTag{};  // as if caught in the middle of execve()
      }
      return ReadWorkerTag(pid);
    });
    ASSERT_TRUE(reaper_->adopts_orphans());
  }
  void TearDown() override {
    reaper_.reset();
    ::prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
  }
  boost::asio::io_context io_;
  std::optional<ChildReaper> reaper_;
  // The next `hide_reads_` reads of `hide_pid_`'s environment come back empty.
  pid_t hide_pid_ = -1;
  int hide_reads_ = 0;
  int reads_of_hidden_ = 0;
};

TEST_F(OrphanModeTest, DetachedChildOfAKilledWorkerIsKilledAndReaped) {
  Shell w = Shell::Run("setsid sleep 300 & echo $!; exec cat <&3 >/dev/null");
  ASSERT_GT(w.started, 0);
  bool reaped = false;
  reaper_->Watch(w.sp.pid, [&](int) { reaped = true; });
  ASSERT_EQ(::kill(w.sp.pid, SIGKILL), 0);
  EXPECT_TRUE(testing::RunUntil(
      io_, [&] { return reaped && !Alive(w.started) && !ParentOf(w.started); }, 10s));
  w.Close();
}

TEST_F(OrphanModeTest, OrphanOfALiveWorkerStaysUntilItsWorkerDies) {
  // The inner shell exits at once: its sleep is reparented to us while `a` lives.
  Shell a = Shell::Run("sh -c 'setsid sleep 300 & echo $!'; exec cat <&3 >/dev/null");
  Shell b = Shell::Run("echo 0; exec cat <&3 >/dev/null");
  ASSERT_GT(a.started, 0);
  int dead = 0;
  reaper_->Watch(a.sp.pid, [&](int) { ++dead; });
  reaper_->Watch(b.sp.pid, [&](int) { ++dead; });
  ASSERT_TRUE(testing::RunUntil(
      io_, [&] { return ParentOf(a.started) == ::getpid() && SettledSleep(a.started); }, 10s));
  const WorkerTag tag = ReadWorkerTag(a.started);
  EXPECT_EQ(tag.kind, WorkerTag::Kind::kWorker);
  EXPECT_EQ(tag.worker, a.sp.pid);
  ASSERT_EQ(::kill(b.sp.pid, SIGKILL), 0);  // another worker dies: a sweep
  ASSERT_TRUE(testing::RunUntil(
      io_, [&] { return dead == 1; }, 10s));
  EXPECT_TRUE(Alive(a.started));
  EXPECT_EQ(reaper_->orphans_killed(), 0u);
  ASSERT_EQ(::kill(a.sp.pid, SIGKILL), 0);
  EXPECT_TRUE(testing::RunUntil(
      io_, [&] { return dead == 2 && !Alive(a.started) && !ParentOf(a.started); }, 10s));
  EXPECT_EQ(reaper_->orphans_killed(), 1u);
  a.Close();
  b.Close();
}

TEST_F(OrphanModeTest, AnOrphanCaughtMidExecStaysWhileItsWorkerLives) {
  Shell a = Shell::Run("sh -c 'setsid sleep 300 & echo $!'; exec cat <&3 >/dev/null");
  Shell b = Shell::Run("echo 0; exec cat <&3 >/dev/null");
  ASSERT_GT(a.started, 0);
  int dead = 0;
  reaper_->Watch(a.sp.pid, [&](int) { ++dead; });
  reaper_->Watch(b.sp.pid, [&](int) { ++dead; });
  ASSERT_TRUE(testing::RunUntil(
      io_, [&] { return ParentOf(a.started) == ::getpid() && SettledSleep(a.started); }, 10s));
  // Unreadable for the first three looks (well inside the grace), then readable.
  constexpr int kHidden = 3;
  static_assert(kHidden * ChildReaper::kUnreadableRetry < ChildReaper::kUnreadableGrace);
  hide_pid_ = a.started;
  hide_reads_ = kHidden;
  ASSERT_EQ(::kill(b.sp.pid, SIGKILL), 0);
  ASSERT_TRUE(testing::RunUntil(
      io_, [&] { return dead == 1; }, 10s));
  EXPECT_GE(reads_of_hidden_, 1);  // the sweep looked and kept it
  EXPECT_TRUE(Alive(a.started));
  // The retries read it unreadable, then its real environment: its worker lives.
  ASSERT_TRUE(testing::RunUntil(
      io_, [&] { return reads_of_hidden_ == kHidden + 1; }, 10s));
  EXPECT_TRUE(Alive(a.started));
  EXPECT_EQ(reaper_->orphans_killed(), 0u);
  ASSERT_EQ(::kill(a.sp.pid, SIGKILL), 0);
  EXPECT_TRUE(testing::RunUntil(
      io_, [&] { return dead == 2 && !Alive(a.started) && !ParentOf(a.started); }, 10s));
  EXPECT_EQ(reaper_->orphans_killed(), 1u);
  a.Close();
  b.Close();
}

TEST_F(OrphanModeTest, AnOrphanWhoseEnvironmentStaysUnreadableIsKilledAfterTheRetries) {
  // `env -i`: the orphan has an empty environment, so it never names a worker.
  Shell a = Shell::Run("sh -c 'env -i setsid sleep 300 & echo $!'; exec cat <&3 >/dev/null");
  Shell b = Shell::Run("echo 0; exec cat <&3 >/dev/null");
  ASSERT_GT(a.started, 0);
  int dead = 0;
  reaper_->Watch(a.sp.pid, [&](int) { ++dead; });
  reaper_->Watch(b.sp.pid, [&](int) { ++dead; });
  ASSERT_TRUE(testing::RunUntil(
      io_, [&] {
        return ParentOf(a.started) == ::getpid() && SettledSleep(a.started, true);
      },
      10s));
  hide_pid_ = a.started;  // only counted: its environment really is empty
  ASSERT_EQ(::kill(b.sp.pid, SIGKILL), 0);
  ASSERT_TRUE(testing::RunUntil(
      io_, [&] { return dead == 1; }, 10s));
  EXPECT_TRUE(Alive(a.started));  // the first sweep only noted it
  EXPECT_EQ(reaper_->orphans_killed(), 0u);
  EXPECT_TRUE(testing::RunUntil(
      io_, [&] { return !Alive(a.started) && !ParentOf(a.started); }, 10s));
  EXPECT_EQ(reaper_->orphans_killed(), 1u);
  // Killed only after the grace: the timer alone looks once per retry
  // period, and an earlier kill would have looked fewer times.
  EXPECT_GE(reads_of_hidden_, ChildReaper::kUnreadableGrace / ChildReaper::kUnreadableRetry);
  ASSERT_EQ(::kill(a.sp.pid, SIGKILL), 0);
  EXPECT_TRUE(testing::RunUntil(
      io_, [&] { return dead == 2; }, 10s));
  a.Close();
  b.Close();
}

TEST_F(OrphanModeTest, KillRemainingDescendantsLeavesNoChild) {
  // A child that has an orphan of its own.
  Shell w = Shell::Run("sh -c 'setsid sleep 300 & echo $!'; exec sleep 300");
  ASSERT_GT(w.started, 0);
  ASSERT_TRUE(testing::RunUntil(
      io_, [&] { return ParentOf(w.started) == ::getpid(); }, 10s));
  EXPECT_GE(KillRemainingDescendants(5s), 2u);
  EXPECT_TRUE(ListChildren().empty());
  EXPECT_FALSE(Alive(w.started));
  EXPECT_FALSE(Alive(w.sp.pid));
  w.Close();
}

TEST(ChildReaperTest, WhatAWorkerLeftInItsGroupDiesWithIt) {
  boost::asio::io_context io;
  ChildReaper reaper(io);
  ASSERT_FALSE(reaper.adopts_orphans());
  Shell w = Shell::Run("sleep 300 & echo $!; exec cat <&3 >/dev/null");
  ASSERT_GT(w.started, 0);
  EXPECT_EQ(::getpgid(w.started), w.sp.pid);
  std::optional<int> status;
  reaper.Watch(w.sp.pid, [&](int ws) { status = ws; });
  ASSERT_EQ(::kill(w.sp.pid, SIGKILL), 0);
  ASSERT_TRUE(testing::RunUntil(
      io, [&] { return status.has_value(); }, 10s));
  EXPECT_TRUE(testing::RunUntil(
      io, [&] { return !Alive(w.started); }, 10s));
  w.Close();
}

}  // namespace
}  // namespace modelgate
