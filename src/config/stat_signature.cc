// StatSignature (model_repository.h): stat() of every entry, no file read.
#include "config/sha256.h"
#include "config/tree_walk.h"
#include "modelgate/model_repository.h"

namespace modelgate {

std::string StatSignature(const std::string& model_dir) {
  Sha256 h;
  size_t entries = 0;
  bool truncated = false;
  const Status walked = WalkTree(model_dir, [&](const TreeEntry& e) {
    if (++entries > kMaxSignatureEntries) {
      truncated = true;
      return false;
    }
    h.UpdateField(e.rel);
    h.UpdateU64(static_cast<uint64_t>(e.type));
    h.UpdateU64(e.size);
    h.UpdateU64(static_cast<uint64_t>(e.mtime_ns));
    h.UpdateU64(e.inode);
    return true;
  });
  // Markers keep a truncated or unreadable tree distinct from a complete one.
  if (truncated) h.UpdateField("!truncated");
  if (!walked.ok()) h.UpdateField("!error " + walked.message());
  return h.HexDigest();
}

}  // namespace modelgate
