// Validation of a model's "python_path" entries (--python-path) before they
// go on sys.path: plain C++, no interpreter needed.
#pragma once

#include <string>
#include <vector>

namespace modelgate::worker_host {

// Files looked at per entry, so a huge directory cannot stall a load.
inline constexpr int kMaxPythonPathFilesScanned = 20000;

// "" when every entry is usable by Python major.minor, else why not, naming
// the entry (and the file) and both versions. An entry must be an existing
// directory; one with a lib/pythonX.Y/ segment, or holding an extension
// module tagged for another Python (*.cpython-XY-*.so directly in it or one
// level below), was built for another Python.
std::string CheckPythonPath(const std::vector<std::string>& entries, int major, int minor);

}  // namespace modelgate::worker_host
