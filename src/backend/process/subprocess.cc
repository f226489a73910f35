#include "backend/process/subprocess.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>

namespace modelgate {

namespace {

// Longest error text a child reports on its status pipe before exiting.
constexpr size_t kMaxChildErrorBytes = 1024;
// Longest passwd/group record getpwnam_r may need.
constexpr size_t kMaxPasswdRecordBytes = 64 * 1024;
// Most supplementary groups taken for the worker user.
constexpr int kMaxGroups = 256;

// Pipe pair (read end, write end), both close-on-exec.
struct Pipe {
  int fds[2] = {-1, -1};
  int read() const { return fds[0]; }
  int write() const { return fds[1]; }
};

void CloseAll(std::initializer_list<int> fds) {
  for (int fd : fds) {
    if (fd >= 0) ::close(fd);
  }
}

// Resolves argv[0] against PATH before fork, so the child needs no
// allocation (only async-signal-safe calls are allowed after fork in a
// multi-threaded process).
std::string Resolve(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = ::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = dirs.substr(start, end - start) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return program;
}

[[noreturn]] void ChildFail(int status_fd, const char* what) {
  int err = errno;
  // Report "what:errno" on the status pipe; the parent turns it into a Status.
  (void)!::write(status_fd, &err, sizeof(err));
  (void)!::write(status_fd, what, strnlen(what, kMaxChildErrorBytes));
  ::_exit(127);
}

// One setrlimit() for the child, decided in the parent.
struct Limit {
  int resource;
  rlimit value;
  const char* what;  // for the child's error
};

rlim_t AsRlim(uint64_t v) { return v == ResourceLimits::kUnlimited ? RLIM_INFINITY : v; }

// Raising a hard limit takes CAP_SYS_RESOURCE, which root lacks in many
// containers: read the effective set rather than trusting euid 0.
bool CanRaiseHardLimits() {
  constexpr int kCapSysResource = 24;  // linux/capability.h
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return false;
  char line[256];
  unsigned long long eff = 0;
  bool found = false;
  while (!found && std::fgets(line, sizeof line, f)) {
    found = std::sscanf(line, "CapEff: %llx", &eff) == 1;
  }
  std::fclose(f);
  return found && (eff >> kCapSysResource) & 1;
}

std::vector<Limit> PlanLimits(const SpawnOptions& options) {
  const ResourceLimits& l = options.limits;
  std::vector<std::pair<int, uint64_t>> want = {{RLIMIT_AS, l.address_space_bytes},
                                                {RLIMIT_CPU, l.cpu_seconds},
                                                {RLIMIT_NOFILE, l.open_files},
                                                {RLIMIT_CORE, l.core_bytes}};
  if (l.processes) {
    want.emplace_back(RLIMIT_NPROC, *l.processes);
  } else if (options.user) {
    want.emplace_back(RLIMIT_NPROC, ResourceLimits::kDefaultProcessesAsWorkerUser);
  }
  const bool privileged = CanRaiseHardLimits();
  std::vector<Limit> plan;
  for (const auto& [resource, value] : want) {
    rlim_t v = AsRlim(value);
    rlimit current{};
    // Without CAP_SYS_RESOURCE a hard limit cannot be raised: stay at the
    // daemon's own.
    if (!privileged && ::getrlimit(resource, &current) == 0 && v > current.rlim_max) {
      v = current.rlim_max;
    }
    const char* what = resource == RLIMIT_AS       ? "setrlimit RLIMIT_AS"
                       : resource == RLIMIT_CPU    ? "setrlimit RLIMIT_CPU"
                       : resource == RLIMIT_NOFILE ? "setrlimit RLIMIT_NOFILE"
                       : resource == RLIMIT_CORE   ? "setrlimit RLIMIT_CORE"
                                                   : "setrlimit RLIMIT_NPROC";
    plan.push_back({resource, rlimit{v, v}, what});
  }
  return plan;
}

}  // namespace

StatusOr<WorkerUser> ResolveWorkerUser(const std::string& name) {
  passwd pw{};
  passwd* found = nullptr;
  std::vector<char> buf(kMaxPasswdRecordBytes);
  const int rc = ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found);
  if (rc != 0) {
    return Internal("worker user '" + name + "': cannot read the user database: " + strerror(rc));
  }
  if (!found) return NotFound("worker user '" + name + "' does not exist");
  WorkerUser user;
  user.name = name;
  user.uid = pw.pw_uid;
  user.gid = pw.pw_gid;
  int n = kMaxGroups;
  user.groups.resize(n);
  if (::getgrouplist(name.c_str(), pw.pw_gid, user.groups.data(), &n) < 0) n = kMaxGroups;
  user.groups.resize(std::min(n, kMaxGroups));
  return user;
}

StatusOr<Subprocess> Spawn(const SpawnOptions& options) {
  if (options.argv.empty()) return InvalidArgument("spawn: empty argv");
  const std::string program = Resolve(options.argv[0]);
  std::vector<char*> argv;
  for (const auto& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  // The child writes its own pid into this entry (no allocation after fork).
  const std::string pid_prefix = std::string(kWorkerPidEnv) + "=";
  std::vector<char> pid_env(pid_prefix.size() + 24, '\0');
  std::copy(pid_prefix.begin(), pid_prefix.end(), pid_env.begin());
  // First, so a bounded read of a descendant's /proc/<pid>/environ finds it.
  std::vector<char*> envp{pid_env.data()};
  for (const auto& e : options.env) {
    if (e.rfind(pid_prefix, 0) != 0) envp.push_back(const_cast<char*>(e.c_str()));
  }
  envp.push_back(nullptr);

  // Everything the child may report is prepared here: it must not allocate.
  const std::vector<Limit> limits = PlanLimits(options);
  std::string user_what, chdir_what;
  std::vector<std::string> read_what;
  if (options.user) {
    user_what = "cannot switch to worker user '" + options.user->name + "' (uid " +
                std::to_string(options.user->uid) + ")";
    for (const auto& path : options.must_read) {
      read_what.push_back("worker user '" + options.user->name + "' (uid " +
                          std::to_string(options.user->uid) + ") cannot read " + path +
                          " (make it readable by that user or choose another --worker-user)");
    }
  }
  chdir_what = "chdir " + options.working_dir +
               (options.user ? " as worker user '" + options.user->name + "'" : "");

  Pipe to_child, from_child, out, err, status;
  for (Pipe* p : {&to_child, &from_child, &out, &err, &status}) {
    if (::pipe2(p->fds, O_CLOEXEC) != 0) {
      Status s = Internal(std::string("spawn: pipe2: ") + strerror(errno));
      CloseAll({to_child.fds[0], to_child.fds[1], from_child.fds[0], from_child.fds[1], out.fds[0],
                out.fds[1], err.fds[0], err.fds[1], status.fds[0], status.fds[1]});
      return s;
    }
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    Status s = Internal(std::string("spawn: fork: ") + strerror(errno));
    CloseAll({to_child.fds[0], to_child.fds[1], from_child.fds[0], from_child.fds[1], out.fds[0],
              out.fds[1], err.fds[0], err.fds[1], status.fds[0], status.fds[1]});
    return s;
  }
  if (pid == 0) {
    // Child: async-signal-safe calls only.
    const int sfd = status.write();
    ::setpgid(0, 0);
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) ChildFail(sfd, "prctl");
    if (::getppid() != parent) ::_exit(0);  // the daemon already died
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig = 1; sig < NSIG; ++sig) {
      if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
    }
    int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull < 0) ChildFail(sfd, "open /dev/null");
    // Move every source above the targets first, so no dup2 clobbers another.
    const int src[5] = {devnull, out.write(), err.write(), to_child.read(), from_child.write()};
    int high[5];
    for (int i = 0; i < 5; ++i) {
      high[i] = ::fcntl(src[i], F_DUPFD_CLOEXEC, 16);
      if (high[i] < 0) ChildFail(sfd, "fcntl");
    }
    const int high_status = ::fcntl(sfd, F_DUPFD_CLOEXEC, 32);
    for (int i = 0; i < 5; ++i) {
      if (::dup2(high[i], i) < 0) ChildFail(high_status, "dup2");  // clears CLOEXEC on i
    }
    // Everything above fd 4 goes, except the CLOEXEC status pipe (closed by exec).
    if (::syscall(SYS_close_range, 5u, static_cast<unsigned>(high_status - 1), 0u) != 0) {
      for (int fd = 5; fd < high_status; ++fd) ::close(fd);
    }
    ::syscall(SYS_close_range, static_cast<unsigned>(high_status + 1), ~0u, 0u);
    // Limits first: only while still root may a hard limit go up.
    for (const Limit& limit : limits) {
      if (::setrlimit(limit.resource, &limit.value) != 0) ChildFail(high_status, limit.what);
    }
    if (options.user) {
      const WorkerUser& u = *options.user;
      // The pipes on fds 1-4 belong to the user too: R reopens /dev/fd/3.
      for (int fd = 1; fd <= 4; ++fd) {
        if (::fchown(fd, u.uid, u.gid) != 0) ChildFail(high_status, "fchown of a pipe");
      }
      // Raw system calls: the child has one thread, and glibc's wrappers
      // would try to broadcast the change to threads that are not there.
      if (::syscall(SYS_setgroups, u.groups.size(), u.groups.data()) != 0 ||
          ::syscall(SYS_setresgid, u.gid, u.gid, u.gid) != 0 ||
          ::syscall(SYS_setresuid, u.uid, u.uid, u.uid) != 0 || ::getuid() != u.uid ||
          ::geteuid() != u.uid) {
        ChildFail(high_status, user_what.c_str());
      }
      // No setuid binary gives the model its privileges back.
      if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ChildFail(high_status, "no_new_privs");
      // A change of credentials clears the death signal: set it again.
      if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) ChildFail(high_status, "prctl");
      if (::getppid() != parent) ::_exit(0);
      for (size_t i = 0; i < options.must_read.size(); ++i) {
        if (::access(options.must_read[i].c_str(), R_OK) != 0) {
          ChildFail(high_status, read_what[i].c_str());
        }
      }
    }
    if (!options.working_dir.empty() && ::chdir(options.working_dir.c_str()) != 0) {
      ChildFail(high_status, chdir_what.c_str());
    }
    {
      // MODELGATE_WORKER_PID=<pid>: digits written by hand (async-signal-safe).
      char digits[24];
      int n = 0;
      for (pid_t p = ::getpid(); p > 0 || n == 0; p /= 10) digits[n++] = char('0' + p % 10);
      char* out = pid_env.data() + pid_prefix.size();
      while (n > 0) *out++ = digits[--n];
      *out = '\0';
    }
    ::execve(program.c_str(), argv.data(), envp.data());
    ChildFail(high_status, "execve");
  }

  // Parent.
  CloseAll({to_child.read(), from_child.write(), out.write(), err.write(), status.write()});
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(status.read(), &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  if (n == sizeof(child_errno)) {
    std::string what;
    char chunk[256];
    ssize_t m;
    while (what.size() < kMaxChildErrorBytes &&
           ((m = ::read(status.read(), chunk, sizeof chunk)) > 0 || (m < 0 && errno == EINTR))) {
      if (m > 0) what.append(chunk, static_cast<size_t>(m));
    }
    ::close(status.read());
    CloseAll({to_child.write(), from_child.read(), out.read(), err.read()});
    int ws;
    ::waitpid(pid, &ws, 0);
    return Internal("spawn '" + program + "': " + what + ": " + strerror(child_errno));
  }
  ::close(status.read());
  Subprocess sp;
  sp.pid = pid;
  sp.frames_to_child = to_child.write();
  sp.frames_from_child = from_child.read();
  sp.child_stdout = out.read();
  sp.child_stderr = err.read();
  return sp;
}

std::string DescribeWaitStatus(int ws) {
  if (WIFEXITED(ws)) return "exited with code " + std::to_string(WEXITSTATUS(ws));
  if (WIFSIGNALED(ws)) {
    const int sig = WTERMSIG(ws);
    const char* name = sigabbrev_np(sig);
    return "killed by signal " + std::to_string(sig) +
           (name ? std::string(" (SIG") + name + ")" : "");
  }
  return "stopped (wait status " + std::to_string(ws) + ")";
}

}  // namespace modelgate
