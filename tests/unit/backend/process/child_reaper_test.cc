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
    if (a_) a_->Close();
    if (b_) b_->Close();
  }

  // Worker a_ runs `script`, which leaves an orphan and prints its pid;
  // worker b_ starts nothing. Both are watched (dead_ counts their exits).
  // Returns once a_'s orphan is this process's child and its exec is over.
  void StartTwoWorkers(const std::string& script, bool empty_environment = false) {
    a_ = Shell::Run(script);
    b_ = Shell::Run("echo 0; exec cat <&3 >/dev/null");
    ASSERT_GT(a_->started, 0);
    reaper_->Watch(a_->sp.pid, [this](int) { ++dead_; });
    reaper_->Watch(b_->sp.pid, [this](int) { ++dead_; });
    ASSERT_TRUE(testing::RunUntil(
        io_,
        [&] {
          return ParentOf(a_->started) == ::getpid() &&
                 SettledSleep(a_->started, empty_environment);
        },
        10s));
  }
  // Kills b_ (a sweep) and waits until it is reaped.
  void KillB() {
    ASSERT_EQ(::kill(b_->sp.pid, SIGKILL), 0);
    ASSERT_TRUE(testing::RunUntil(
        io_, [&] { return dead_ == 1; }, 10s));
  }
  // Kills a_ and waits until it is reaped and its orphan is gone.
  void KillAAndAwaitItsOrphan() {
    ASSERT_EQ(::kill(a_->sp.pid, SIGKILL), 0);
    EXPECT_TRUE(testing::RunUntil(
        io_, [&] { return dead_ == 2 && !Alive(a_->started) && !ParentOf(a_->started); }, 10s));
  }
  boost::asio::io_context io_;
  std::optional<ChildReaper> reaper_;
  // The next `hide_reads_` reads of `hide_pid_`'s environment come back empty.
  pid_t hide_pid_ = -1;
  int hide_reads_ = 0;
  int reads_of_hidden_ = 0;
  std::optional<Shell> a_, b_;
  int dead_ = 0;
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
  ASSERT_NO_FATAL_FAILURE(
      StartTwoWorkers("sh -c 'setsid sleep 300 & echo $!'; exec cat <&3 >/dev/null"));
  const WorkerTag tag = ReadWorkerTag(a_->started);
  EXPECT_EQ(tag.kind, WorkerTag::Kind::kWorker);
  EXPECT_EQ(tag.worker, a_->sp.pid);
  ASSERT_NO_FATAL_FAILURE(KillB());  // another worker dies: a sweep
  EXPECT_TRUE(Alive(a_->started));
  EXPECT_EQ(reaper_->orphans_killed(), 0u);
  KillAAndAwaitItsOrphan();
  EXPECT_EQ(reaper_->orphans_killed(), 1u);
}

TEST_F(OrphanModeTest, AnOrphanCaughtMidExecStaysWhileItsWorkerLives) {
  ASSERT_NO_FATAL_FAILURE(
      StartTwoWorkers("sh -c 'setsid sleep 300 & echo $!'; exec cat <&3 >/dev/null"));
  // Unreadable for the first three looks (well inside the grace), then readable.
  constexpr int kHidden = 3;
  static_assert(kHidden * ChildReaper::kUnreadableRetry < ChildReaper::kUnreadableGrace);
  hide_pid_ = a_->started;
  hide_reads_ = kHidden;
  ASSERT_NO_FATAL_FAILURE(KillB());
  EXPECT_GE(reads_of_hidden_, 1);  // the sweep looked and kept it
  EXPECT_TRUE(Alive(a_->started));
  // The retries read it unreadable, then its real environment: its worker lives.
  ASSERT_TRUE(testing::RunUntil(
      io_, [&] { return reads_of_hidden_ == kHidden + 1; }, 10s));
  EXPECT_TRUE(Alive(a_->started));
  EXPECT_EQ(reaper_->orphans_killed(), 0u);
  KillAAndAwaitItsOrphan();
  EXPECT_EQ(reaper_->orphans_killed(), 1u);
}

TEST_F(OrphanModeTest, AnOrphanWhoseEnvironmentStaysUnreadableIsKilledAfterTheGrace) {
  // `env -i`: the orphan has an empty environment, so it never names a worker.
  ASSERT_NO_FATAL_FAILURE(
      StartTwoWorkers("sh -c 'env -i setsid sleep 300 & echo $!'; exec cat <&3 >/dev/null", true));
  hide_pid_ = a_->started;  // only counted: its environment really is empty
  ASSERT_NO_FATAL_FAILURE(KillB());
  EXPECT_TRUE(Alive(a_->started));  // the first sweep only noted it
  EXPECT_EQ(reaper_->orphans_killed(), 0u);
  EXPECT_TRUE(testing::RunUntil(
      io_, [&] { return !Alive(a_->started) && !ParentOf(a_->started); }, 10s));
  EXPECT_EQ(reaper_->orphans_killed(), 1u);
  // Killed only after the grace: the timer alone looks once per retry
  // period, and an earlier kill would have looked fewer times.
  EXPECT_GE(reads_of_hidden_, ChildReaper::kUnreadableGrace / ChildReaper::kUnreadableRetry);
  ASSERT_EQ(::kill(a_->sp.pid, SIGKILL), 0);
  EXPECT_TRUE(testing::RunUntil(
      io_, [&] { return dead_ == 2; }, 10s));
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
