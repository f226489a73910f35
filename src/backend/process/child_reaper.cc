#include "backend/process/child_reaper.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>

#include "backend/process/subprocess.h"
#include "modelgate/log_event.h"

namespace modelgate {

namespace {

// /proc/<pid>/stat is one short line; the command name in it is at most 64 bytes.
constexpr size_t kMaxStatBytes = 1024;
// How much of a process's environment is searched for MODELGATE_WORKER_PID.
// Spawn puts it first, and children inherit the order.
constexpr size_t kMaxEnvironBytes = 64 * 1024;
// Pause between rounds of KillRemainingDescendants.
constexpr std::chrono::milliseconds kKillRoundPause{5};

// Reads up to `limit` bytes of a small /proc file.
std::string ReadProcFile(const std::string& path, size_t limit) {
  std::string out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[4096];
  while (out.size() < limit) {
    const ssize_t n = ::read(fd, buf, std::min(sizeof buf, limit - out.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

struct ProcStat {
  pid_t ppid = 0;
  char state = '?';  // 'Z': a zombie, waiting to be reaped
};

// From /proc/<pid>/stat ("pid (comm) state ppid ..."); the command name may
// hold spaces and parentheses, so parse after the last ')'.
std::optional<ProcStat> StatOf(pid_t pid) {
  const std::string stat = ReadProcFile("/proc/" + std::to_string(pid) + "/stat", kMaxStatBytes);
  const size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 4 >= stat.size()) return std::nullopt;
  ProcStat out;
  out.state = stat[close + 2];
  const char* p = stat.c_str() + close + 4;  // ") S 123 ...": after ") ", state, ' '
  char* end = nullptr;
  const long ppid = std::strtol(p, &end, 10);
  if (end == p) return std::nullopt;
  out.ppid = static_cast<pid_t>(ppid);
  return out;
}

bool IsZombie(pid_t pid) {
  const auto stat = StatOf(pid);
  return !stat || stat->state == 'Z';
}

// SIGKILL for `pid`, and for its whole group when it leads one (an orphan
// that called setsid() leads its session and group).
bool KillProcessAndGroup(pid_t pid) {
  if (::getpgid(pid) == pid) ::kill(-pid, SIGKILL);
  return ::kill(pid, SIGKILL) == 0;
}

}  // namespace

Status BecomeChildSubreaper() {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    return Internal(std::string("prctl(PR_SET_CHILD_SUBREAPER): ") + strerror(errno));
  }
  return Status::Ok();
}

bool IsChildSubreaper() {
  int on = 0;
  return ::prctl(PR_GET_CHILD_SUBREAPER, &on, 0, 0, 0) == 0 && on != 0;
}

std::vector<pid_t> ListChildren() {
  std::vector<pid_t> children;
  DIR* proc = ::opendir("/proc");
  if (!proc) return children;
  const pid_t self = ::getpid();
  while (const dirent* e = ::readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    const auto stat = StatOf(static_cast<pid_t>(pid));
    if (stat && stat->ppid == self) children.push_back(static_cast<pid_t>(pid));
  }
  ::closedir(proc);
  return children;
}

WorkerTag ReadWorkerTag(pid_t pid) {
  const std::string env =
      ReadProcFile("/proc/" + std::to_string(pid) + "/environ", kMaxEnvironBytes);
  if (env.empty()) return {};  // kUnreadable
  const std::string key = std::string(kWorkerPidEnv) + "=";
  for (size_t start = 0; start < env.size();) {
    size_t end = env.find('\0', start);
    if (end == std::string::npos) end = env.size();
    std::string_view entry(env.data() + start, end - start);
    if (entry.substr(0, key.size()) == key) {
      const std::string digits(entry.substr(key.size()));
      char* stop = nullptr;
      const long v = std::strtol(digits.c_str(), &stop, 10);
      if (v > 0 && stop && *stop == '\0') {
        return {WorkerTag::Kind::kWorker, static_cast<pid_t>(v)};
      }
      break;
    }
    start = end + 1;
  }
  return {WorkerTag::Kind::kNone, 0};
}

size_t KillRemainingDescendants(std::chrono::milliseconds budget) {
  const auto deadline = std::chrono::steady_clock::now() + budget;
  size_t killed = 0;
  for (;;) {
    const auto children = ListChildren();
    if (children.empty()) break;
    // Each kill may reparent that process's own children here: next round.
    for (pid_t pid : children) {
      if (!IsZombie(pid) && KillProcessAndGroup(pid)) ++killed;
    }
    int ws = 0;
    while (::waitpid(-1, &ws, WNOHANG) > 0) {
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(kKillRoundPause);
  }
  int ws = 0;
  while (::waitpid(-1, &ws, WNOHANG) > 0) {
  }
  return killed;
}

ChildReaper::ChildReaper(boost::asio::io_context& io, TagReader read_tag)
    : io_(io),
      signals_(io, SIGCHLD),
      resweep_(io),
      read_tag_(std::move(read_tag)),
      adopt_orphans_(IsChildSubreaper()) {
  Arm();
}

void ChildReaper::Watch(pid_t pid, OnExit on_exit) {
  watched_.emplace(pid, std::move(on_exit));
  // The child may have exited before it was registered; check once now.
  boost::asio::post(io_, [this] { ReapReady(); });
}

void ChildReaper::Arm() {
  signals_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;  // cancelled: the reaper is going away
    ReapReady();
    Arm();
  });
}

void ChildReaper::ReapReady() {
  std::vector<std::pair<OnExit, int>> done;
  for (auto it = watched_.begin(); it != watched_.end();) {
    const pid_t pid = it->first;
    siginfo_t info{};
    // Peek first (WNOWAIT): while the leader is an unreaped zombie its group
    // id stays reserved, so the group kill cannot hit a stranger.
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid) {
      ::kill(-pid, SIGKILL);  // what the worker left in its process group
      int ws = 0;
      ::waitpid(pid, &ws, 0);
      done.emplace_back(std::move(it->second), ws);
      it = watched_.erase(it);
    } else {
      ++it;
    }
  }
  bool orphan_exited = false;
  if (adopt_orphans_) {
    int ws = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &ws, WNOHANG)) > 0) {
      auto it = watched_.find(pid);
      if (it != watched_.end()) {  // exited after the loop above looked
        done.emplace_back(std::move(it->second), ws);
        watched_.erase(it);
      } else {
        orphan_exited = true;
      }
    }
    // An orphan's exit may reparent its own children here.
    if (!done.empty() || orphan_exited) SweepOrphans();
  }
  // Callbacks run after the map is consistent: they may Watch() new children.
  for (auto& [cb, ws] : done) cb(ws);
}

void ChildReaper::SweepOrphans() {
  const auto now = std::chrono::steady_clock::now();
  std::unordered_map<pid_t, std::chrono::steady_clock::time_point> still_unreadable;
  for (pid_t pid : ListChildren()) {
    if (watched_.contains(pid) || IsZombie(pid)) continue;
    const WorkerTag tag = read_tag_(pid);
    if (tag.kind == WorkerTag::Kind::kWorker && watched_.contains(tag.worker)) {
      continue;  // its worker still lives
    }
    if (tag.kind == WorkerTag::Kind::kUnreadable) {
      auto it = unreadable_.find(pid);
      const auto since = it == unreadable_.end() ? now : it->second;
      if (now - since < kUnreadableGrace) {  // maybe mid-exec: look again later
        still_unreadable.emplace(pid, since);
        continue;
      }
    }
    if (KillProcessAndGroup(pid)) {
      ++orphans_killed_;
      if (tag.kind == WorkerTag::Kind::kUnreadable) {
        LogInfo("orphan killed", {{"pid", pid},
                                  {"worker_pid", nullptr},
                                  {"reason", "its environment stayed unreadable"}});
      } else {
        // The worker that started it is gone, or it never named one.
        LogInfo("orphan killed",
                {{"pid", pid},
                 {"worker_pid", tag.kind == WorkerTag::Kind::kWorker ? LogValue(tag.worker)
                                                                     : LogValue(nullptr)}});
      }
    }
  }
  unreadable_ = std::move(still_unreadable);
  if (!unreadable_.empty()) ArmResweep();
}

void ChildReaper::ArmResweep() {
  if (resweep_armed_) return;
  resweep_armed_ = true;
  resweep_.expires_after(kUnreadableRetry);
  resweep_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled: the reaper is going away
    resweep_armed_ = false;
    SweepOrphans();
  });
}

}  // namespace modelgate
