// Launching a worker subprocess with the frame pipes on fixed descriptors.
//
// The child gets: stdin /dev/null; stdout and stderr on pipes read by the
// daemon; fd 3 = frames from the daemon, fd 4 = frames to the daemon; no other
// descriptor (close_range); its own process group (so the daemon can kill
// whatever it leaves behind in that group); SIGKILL when the thread that
// spawned it exits (PR_SET_PDEATHSIG, so spawn from a thread that lives as
// long as the daemon: the I/O thread); default signal dispositions and an
// empty signal mask; hard and soft resource limits (ResourceLimits); when
// `user` is set, that user's uid, gid and groups (and no_new_privs); exactly
// the environment given plus MODELGATE_WORKER_PID=<its own pid>, which its
// descendants inherit, so the daemon can tell whose orphan a process is.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "modelgate/resource_limits.h"
#include "modelgate/status.h"

namespace modelgate {

// Set in every worker's environment to the worker's own pid.
inline constexpr char kWorkerPidEnv[] = "MODELGATE_WORKER_PID";

// An unprivileged user for workers, resolved before fork.
struct WorkerUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups (getgrouplist)
};

// Looks the user up in the passwd and group databases; NOT_FOUND names it.
StatusOr<WorkerUser> ResolveWorkerUser(const std::string& name);

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is looked up on PATH if it has no '/'
  std::vector<std::string> env;   // "KEY=VALUE" entries; the whole environment
  std::string working_dir;        // empty: inherit
  ResourceLimits limits;
  // Set: the child drops to this user before exec (the daemon must be root).
  std::optional<WorkerUser> user;
  // Files and directories the child must be able to read as `user`; checked
  // after the switch so the error names the path, not a later failure.
  std::vector<std::string> must_read;
};

// Descriptors are owned by the caller (close-on-exec, blocking mode).
struct Subprocess {
  pid_t pid = -1;
  int frames_to_child = -1;    // write end of the child's fd 3
  int frames_from_child = -1;  // read end of the child's fd 4
  int child_stdout = -1;
  int child_stderr = -1;
};

StatusOr<Subprocess> Spawn(const SpawnOptions& options);

// "exited with code 3" / "killed by signal 9 (SIGKILL)" for a waitpid status.
std::string DescribeWaitStatus(int wait_status);

}  // namespace modelgate
