// ChildReaper: reaps the daemon's worker processes, reports each one's wait
// status exactly once, and makes sure nothing a worker started outlives it.
//
// Listens for SIGCHLD through an Asio signal_set. Every watched pid leads its
// own process group (Spawn puts each worker in one): when it exits, whatever
// is left of its group gets SIGKILL before the leader is reaped, so the group
// id cannot be reused in between.
//
// Orphan mode: when the process is a child subreaper (BecomeChildSubreaper()
// before the reaper is created), processes that model code detached into a
// session or group of their own are reparented to the daemon once their
// parent exits. The reaper then also reaps children it does not watch, and
// after every worker death or orphan exit it SIGKILLs each orphan (a child it
// does not watch) whose MODELGATE_WORKER_PID (see subprocess.h) names no live
// worker: an orphan lives as long as the worker that started it. An orphan
// whose environment reads empty or cannot be read (a process in the middle
// of execve() shows none until the new image has its stack; one the daemon
// may not read, e.g. a setuid program, shows none either) is looked at again
// every kUnreadableRetry, and killed only once it has stayed unreadable for
// kUnreadableGrace: a live worker's orphan caught mid-exec stays. Without
// orphan mode it waitpid()s only the pids registered with it, so it cannot
// steal another component's children.
//
// Create it before spawning any child. Single-threaded: all calls and
// callbacks happen on the io_context's thread.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <unordered_map>
#include <vector>

#include "modelgate/status.h"

namespace modelgate {

// What an orphan's environment says about the worker that started it.
struct WorkerTag {
  enum class Kind {
    kWorker,      // MODELGATE_WORKER_PID=`worker`
    kNone,        // an environment without (a valid) MODELGATE_WORKER_PID
    kUnreadable,  // empty or unreadable: mid-exec, or it changed credentials
  };
  Kind kind = Kind::kUnreadable;
  pid_t worker = 0;
};
// Reads /proc/<pid>/environ.
WorkerTag ReadWorkerTag(pid_t pid);

class ChildReaper {
 public:
  using OnExit = std::function<void(int wait_status)>;
  using TagReader = std::function<WorkerTag(pid_t)>;

  // How long an orphan may stay unreadable before it is treated as having no
  // worker, and how often it is looked at meanwhile. Time, not sweeps: a
  // burst of exits sweeps many times in a millisecond.
  static constexpr std::chrono::milliseconds kUnreadableGrace{500};
  static constexpr std::chrono::milliseconds kUnreadableRetry{50};

  // `read_tag` is for tests; the daemon uses ReadWorkerTag.
  explicit ChildReaper(boost::asio::io_context& io, TagReader read_tag = ReadWorkerTag);
  ChildReaper(const ChildReaper&) = delete;
  ChildReaper& operator=(const ChildReaper&) = delete;

  // `on_exit` runs once, on the io thread, after `pid` has been reaped.
  void Watch(pid_t pid, OnExit on_exit);

  size_t watched() const { return watched_.size(); }
  bool adopts_orphans() const { return adopt_orphans_; }
  // Orphans killed so far: their worker was gone, they named none, or their
  // environment stayed unreadable for kUnreadableGrace.
  size_t orphans_killed() const { return orphans_killed_; }

 private:
  void Arm();
  void ReapReady();
  void SweepOrphans();
  void ArmResweep();

  boost::asio::io_context& io_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer resweep_;
  bool resweep_armed_ = false;
  const TagReader read_tag_;
  std::unordered_map<pid_t, OnExit> watched_;
  // Orphans whose environment could not be read: when that was first seen.
  std::unordered_map<pid_t, std::chrono::steady_clock::time_point> unreadable_;
  const bool adopt_orphans_;
  size_t orphans_killed_ = 0;
};

// prctl(PR_SET_CHILD_SUBREAPER): descendants orphaned by a worker's exit are
// reparented to this process instead of init. Call early in main().
Status BecomeChildSubreaper();
bool IsChildSubreaper();

// The pids whose parent is this process (from /proc), zombies included.
std::vector<pid_t> ListChildren();

// For the end of shutdown, once the workers are reaped and no more are
// started: SIGKILLs every remaining child (its process group too when it
// leads one) and every descendant reparented here meanwhile, and reaps them,
// for at most `budget`. Returns how many live processes it killed.
size_t KillRemainingDescendants(std::chrono::milliseconds budget);

}  // namespace modelgate
