// A worker's resource caps: a value type of the model config ("limits" in
// config.json), applied by the process layer at spawn.
#pragma once

#include <cstdint>
#include <optional>

namespace modelgate {

// setrlimit() caps for the child, each applied as soft = hard so model code
// cannot raise it. Without root, a cap above the daemon's own hard limit is
// lowered to it.
struct ResourceLimits {
  static constexpr uint64_t kUnlimited = UINT64_MAX;  // RLIM_INFINITY
  static constexpr uint64_t kDefaultAddressSpaceBytes = uint64_t{16} << 30;
  static constexpr uint64_t kDefaultOpenFiles = 4096;
  // Counts every task (thread) of the worker user across all workers of the
  // daemon, so it is sized for pools, not for one process.
  static constexpr uint64_t kDefaultProcessesAsWorkerUser = 1024;

  uint64_t address_space_bytes = kDefaultAddressSpaceBytes;  // RLIMIT_AS: allocations fail beyond
  uint64_t cpu_seconds = kUnlimited;  // RLIMIT_CPU: SIGXCPU, then SIGKILL (workers are long-lived)
  uint64_t open_files = kDefaultOpenFiles;  // RLIMIT_NOFILE
  uint64_t core_bytes = 0;                  // RLIMIT_CORE: no core files
  // RLIMIT_NPROC; unset: kDefaultProcessesAsWorkerUser when the child runs as
  // another user, else inherited (it counts all processes of the daemon's uid).
  std::optional<uint64_t> processes;
};

}  // namespace modelgate
