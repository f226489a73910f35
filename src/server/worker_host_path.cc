#include "server/worker_host_path.h"

#include <system_error>

namespace modelgate {

namespace fs = std::filesystem;

std::string ResolveWorkerHost(const fs::path& executable) {
  if (executable.empty() || !executable.has_parent_path()) return kWorkerHostName;
  return (executable.parent_path() / kWorkerHostName).lexically_normal().string();
}

std::string DefaultWorkerHost() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ResolveWorkerHost(ec ? fs::path() : self);
}

}  // namespace modelgate
