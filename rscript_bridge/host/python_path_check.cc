#include "python_path_check.h"

#include <filesystem>
#include <optional>
#include <system_error>
#include <utility>

namespace modelgate::worker_host {
namespace {

namespace fs = std::filesystem;
using Version = std::pair<int, int>;

std::string Show(Version v) { return std::to_string(v.first) + "." + std::to_string(v.second); }

std::optional<int> Digits(const std::string& s) {
  if (s.empty() || s.size() > 4) return std::nullopt;
  int n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

// "python3.9" -> (3, 9).
std::optional<Version> LibSegmentVersion(const std::string& name) {
  const std::string prefix = "python";
  if (name.rfind(prefix, 0) != 0) return std::nullopt;
  const std::string rest = name.substr(prefix.size());
  const size_t dot = rest.find('.');
  if (dot == std::string::npos) return std::nullopt;
  auto major = Digits(rest.substr(0, dot));
  auto minor = Digits(rest.substr(dot + 1));
  if (!major || !minor) return std::nullopt;
  return Version{*major, *minor};
}

// "foo.cpython-39-x86_64-linux-gnu.so" -> (3, 9); the tag's first digit is
// the major version.
std::optional<Version> ExtensionVersion(const std::string& name) {
  const std::string tag = ".cpython-";
  const size_t at = name.find(tag);
  if (at == std::string::npos || name.size() < 3 || name.compare(name.size() - 3, 3, ".so") != 0)
    return std::nullopt;
  const size_t start = at + tag.size();
  const size_t end = name.find('-', start);
  if (end == std::string::npos) return std::nullopt;
  const std::string digits = name.substr(start, end - start);
  if (digits.size() < 2) return std::nullopt;
  auto major = Digits(digits.substr(0, 1));
  auto minor = Digits(digits.substr(1));
  if (!major || !minor) return std::nullopt;
  return Version{*major, *minor};
}

// The first extension module for another Python in dir or one level below.
std::optional<std::pair<std::string, Version>> ForeignExtension(const fs::path& dir, Version ours) {
  int scanned = 0;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (++scanned > kMaxPythonPathFilesScanned) break;
    if (it.depth() >= 1) it.disable_recursion_pending();
    const std::string name = it->path().filename().string();
    auto v = ExtensionVersion(name);
    if (v && *v != ours && it->is_regular_file(ec)) return std::make_pair(it->path().string(), *v);
  }
  return std::nullopt;
}

}  // namespace

std::string CheckPythonPath(const std::vector<std::string>& entries, int major, int minor) {
  const Version ours{major, minor};
  for (const std::string& entry : entries) {
    const std::string quoted = "python_path entry '" + entry + "'";
    std::error_code ec;
    if (entry.empty() || !fs::is_directory(entry, ec)) {
      return quoted + " is not an existing directory";
    }
    const fs::path path(entry);
    std::string previous;
    for (const fs::path& part : path) {
      const std::string name = part.string();
      auto v = LibSegmentVersion(name);
      if ((previous == "lib" || previous == "lib64") && v && *v != ours) {
        return quoted + " is built for Python " + Show(*v) + " (its path has " + previous + "/" +
               name + "/), not for this worker's Python " + Show(ours);
      }
      previous = name;
    }
    if (auto foreign = ForeignExtension(path, ours)) {
      return quoted + " is built for another Python: " + foreign->first +
             " is an extension module for Python " + Show(foreign->second) +
             ", not for this worker's Python " + Show(ours);
    }
  }
  return "";
}

}  // namespace modelgate::worker_host
