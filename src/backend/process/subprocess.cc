#include "modelgate/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

namespace modelgate {

namespace {

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
  (void)!::write(status_fd, what, strlen(what));
  ::_exit(127);
}

}  // namespace

StatusOr<Subprocess> Spawn(const SpawnOptions& options) {
  if (options.argv.empty()) return InvalidArgument("spawn: empty argv");
  const std::string program = Resolve(options.argv[0]);
  std::vector<char*> argv;
  for (const auto& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : options.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

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
    const std::pair<int, uint64_t> limits[] = {{RLIMIT_AS, options.limits.address_space_bytes},
                                               {RLIMIT_CPU, options.limits.cpu_seconds},
                                               {RLIMIT_NOFILE, options.limits.open_files}};
    for (const auto& [resource, value] : limits) {
      if (value == 0) continue;
      const rlimit rl{value, value};
      if (::setrlimit(resource, &rl) != 0) ChildFail(high_status, "setrlimit");
    }
    if (!options.working_dir.empty() && ::chdir(options.working_dir.c_str()) != 0) {
      ChildFail(high_status, "chdir");
    }
    ::execve(program.c_str(), argv.data(), envp.data());
    ChildFail(high_status, "execve");
  }

  // Parent.
  CloseAll({to_child.read(), from_child.write(), out.write(), err.write(), status.write()});
  int child_errno = 0;
  char what[64] = {0};
  ssize_t n;
  do {
    n = ::read(status.read(), &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  if (n == sizeof(child_errno)) {
    ssize_t m = ::read(status.read(), what, sizeof(what) - 1);
    (void)m;
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
