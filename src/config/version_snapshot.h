// Immutable versions: a version's workers load a private copy of its
// directory taken at load, so a replacement worker (after a crash, recycle or
// deadline kill) runs exactly the code its peers run even when the files in
// the repository changed meanwhile. Changes reach workers only by a load.
//
// The fingerprint is computed from the copy (relative path and bytes of every
// file, sorted by path) and the effective config (VersionEntry::config_json),
// so it describes exactly what the workers load.
#pragma once

#include <string>

#include "modelgate/model_repository.h"
#include "modelgate/status.h"

namespace modelgate {

struct VersionSnapshot {
  std::string dir;          // the private copy the workers load
  std::string fingerprint;  // kFingerprintHexChars lowercase hex digits of SHA-256
  // An identical snapshot was already there and is returned: whoever made it
  // may still use it, so remove it only when no version uses the fingerprint.
  bool reused = false;
};

inline constexpr size_t kFingerprintHexChars = 16;

// Copies `v.dir` into a new directory under `root` (created, mode 0711, if
// missing) named after model, version and fingerprint; an identical snapshot
// already there is reused. Symlinks are copied as the files they point to.
// An error names the file that could not be read or written.
//
// Layout: the copy is made in <root>/.<model>-<version>.tmp-XXXXXX, hashed,
// then renamed to <root>/<model>-<version>-<fingerprint> (removed instead
// when that exists). Every file and directory keeps its source's permission
// bits and, when the daemon is root, its owner: a worker user can read
// exactly what it could read in the repository (the root, 0711, lets it pass
// through without listing the snapshots). Files are streamed through a
// fixed buffer, so size costs time, not memory. A crash mid-copy leaves a
// .tmp- directory behind. Fails (INTERNAL, naming the path) on an unreadable
// file, a fifo/socket/device, a dangling symlink or a symlink loop.
// Thread-safe; concurrent snapshots of the same content share one directory.
StatusOr<VersionSnapshot> SnapshotVersion(const std::string& model, const VersionEntry& v,
                                          const std::string& root);

// Removes a snapshot directory; failures are logged, never fatal.
void RemoveSnapshot(const std::string& dir);

}  // namespace modelgate
