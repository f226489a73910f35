#include "server/bridge_dir.h"

#include <system_error>

#ifndef MODELGATE_BRIDGE_FROM_BINDIR
#define MODELGATE_BRIDGE_FROM_BINDIR "../share/modelgate/bridge"
#endif
#ifndef MODELGATE_BUILD_BRIDGE_DIR
#define MODELGATE_BUILD_BRIDGE_DIR "/usr/share/modelgate/bridge"
#endif

namespace modelgate {

namespace fs = std::filesystem;

std::string ResolveBridgeDir(const fs::path& executable, std::string_view installed,
                             std::string_view build_tree) {
  if (!executable.empty()) {
    const fs::path candidate = (executable.parent_path() / fs::path(installed)).lexically_normal();
    std::error_code ec;
    if (fs::is_directory(candidate, ec)) return candidate.string();
  }
  return fs::path(build_tree).lexically_normal().string();
}

std::string DefaultBridgeDir() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);  // empty on error
  return ResolveBridgeDir(ec ? fs::path() : self, MODELGATE_BRIDGE_FROM_BINDIR,
                          MODELGATE_BUILD_BRIDGE_DIR);
}

}  // namespace modelgate
