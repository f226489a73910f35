// Where the worker runtimes (R/, python/, proto/) are when --bridge-dir is not
// given. An installed daemon (`cmake --install`) finds them beside itself, at
// <directory of the executable>/../share/modelgate/bridge; a daemon run from
// its build tree uses the build's bridge/ directory.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace modelgate {

// `installed` (relative to the executable's directory, or absolute) when it
// names a directory, else `build_tree`. Lexically normalised.
std::string ResolveBridgeDir(const std::filesystem::path& executable, std::string_view installed,
                             std::string_view build_tree);

// ResolveBridgeDir for this process (/proc/self/exe) and the directories
// CMake compiled in (cmake/install.cmake).
std::string DefaultBridgeDir();

}  // namespace modelgate
