// WalkTree: every entry under a directory in a fixed order, for the
// repository's change signature (StatSignature) and version snapshots.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "modelgate/status.h"

namespace modelgate {

// Symlink cycles end here: a tree nested deeper is an error.
inline constexpr int kMaxTreeDepth = 32;

struct TreeEntry {
  enum class Type { kDirectory, kFile, kOther };
  std::string rel;   // relative to the walked directory, '/'-separated
  std::string path;  // the walked directory joined with `rel`
  // What a symlink points to: symlinks are followed, never reported.
  Type type = Type::kOther;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  uint64_t inode = 0;
  uint32_t mode = 0;  // st_mode
  uint32_t uid = 0, gid = 0;
};

// Calls `visit` for every entry under `dir` (not `dir` itself): names sorted
// bytewise, a directory's entries right after the directory. `visit`
// returning false stops the walk (WalkTree then returns Ok). Fails, naming
// the path, on an unreadable directory, an entry that cannot be stat'ed (a
// dangling symlink) or nesting deeper than kMaxTreeDepth. Reads no file.
Status WalkTree(const std::string& dir, const std::function<bool(const TreeEntry&)>& visit);

}  // namespace modelgate
