// Where the native worker host (modelgate-worker) is when --worker-host is
// not given: beside the daemon's own executable. `cmake --install` puts both
// in bin/, and the build tree has both in the build directory.
#pragma once

#include <filesystem>
#include <string>

namespace modelgate {

inline constexpr const char* kWorkerHostName = "modelgate-worker";

// <directory of executable>/modelgate-worker; "modelgate-worker" (searched
// on PATH by the spawn) when the executable is unknown.
std::string ResolveWorkerHost(const std::filesystem::path& executable);

// ResolveWorkerHost for this process (/proc/self/exe).
std::string DefaultWorkerHost();

}  // namespace modelgate
