// Launching a worker subprocess with the frame pipes on fixed descriptors.
//
// The child gets: stdin /dev/null; stdout and stderr on pipes read by the
// daemon; fd 3 = frames from the daemon, fd 4 = frames to the daemon; no other
// descriptor (close_range); its own process group; SIGKILL when the thread
// that spawned it exits (PR_SET_PDEATHSIG, so spawn from a thread that lives
// as long as the daemon: the I/O thread); default signal dispositions and an
// empty signal mask; exactly the environment given.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "modelgate/status.h"

namespace modelgate {

// Optional setrlimit() caps for the child; 0 leaves a limit as inherited.
struct ResourceLimits {
  uint64_t address_space_bytes = 0;  // RLIMIT_AS: allocation beyond it fails
  uint64_t cpu_seconds = 0;          // RLIMIT_CPU: SIGXCPU, then SIGKILL
  uint64_t open_files = 0;           // RLIMIT_NOFILE
};

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is looked up on PATH if it has no '/'
  std::vector<std::string> env;   // "KEY=VALUE" entries; the whole environment
  std::string working_dir;        // empty: inherit
  ResourceLimits limits;
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
