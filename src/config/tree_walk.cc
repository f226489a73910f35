#include "config/tree_walk.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>
#include <vector>

namespace modelgate {

namespace fs = std::filesystem;

namespace {

// Walks `dir` (at `rel` below the root); false: stopped by `visit` or failed
// (then *error is set).
// `ancestors`: (device, inode) of every directory from the root down to
// `dir`, so a symlink back up (x -> .) is a loop, not 2^depth paths.
bool Walk(const std::string& dir, const std::string& rel, int depth,
          std::vector<std::pair<dev_t, ino_t>>& ancestors,
          const std::function<bool(const TreeEntry&)>& visit, Status* error) {
  if (depth >= kMaxTreeDepth) {
    *error = Internal(dir + ": nested deeper than " + std::to_string(kMaxTreeDepth) +
                      " directories (a symlink loop?)");
    return false;
  }
  std::error_code ec;
  std::vector<std::string> names;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    names.push_back(it->path().filename().string());
  }
  if (ec) {
    *error = Internal(dir + ": cannot read the directory: " + ec.message());
    return false;
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    TreeEntry e;
    e.rel = rel.empty() ? name : rel + "/" + name;
    e.path = dir + "/" + name;
    struct stat st {};
    if (::stat(e.path.c_str(), &st) != 0) {
      *error = Internal(e.path + ": cannot stat: " + std::strerror(errno));
      return false;
    }
    e.type = S_ISDIR(st.st_mode)   ? TreeEntry::Type::kDirectory
             : S_ISREG(st.st_mode) ? TreeEntry::Type::kFile
                                   : TreeEntry::Type::kOther;
    e.size = static_cast<uint64_t>(st.st_size);
    e.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    e.inode = st.st_ino;
    e.mode = st.st_mode;
    e.uid = st.st_uid;
    e.gid = st.st_gid;
    if (e.type == TreeEntry::Type::kDirectory &&
        std::find(ancestors.begin(), ancestors.end(), std::pair(st.st_dev, st.st_ino)) !=
            ancestors.end()) {
      *error = Internal(e.path + ": a symlink loop (it leads back to a directory above it)");
      return false;
    }
    if (!visit(e)) return false;
    if (e.type == TreeEntry::Type::kDirectory) {
      ancestors.emplace_back(st.st_dev, st.st_ino);
      const bool ok = Walk(e.path, e.rel, depth + 1, ancestors, visit, error);
      ancestors.pop_back();
      if (!ok) return false;
    }
  }
  return true;
}

}  // namespace

Status WalkTree(const std::string& dir, const std::function<bool(const TreeEntry&)>& visit) {
  Status error;
  std::vector<std::pair<dev_t, ino_t>> ancestors;
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) ancestors.emplace_back(st.st_dev, st.st_ino);
  Walk(dir, "", 0, ancestors, visit, &error);
  return error;
}

}  // namespace modelgate
