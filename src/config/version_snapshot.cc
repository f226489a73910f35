#include "config/version_snapshot.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "config/sha256.h"
#include "config/tree_walk.h"
#include "modelgate/log_event.h"

namespace modelgate {

namespace fs = std::filesystem;

namespace {

// Files are streamed through one buffer of this size: a model of any size
// costs this much memory.
constexpr size_t kCopyBufferBytes = size_t{1} << 20;
// Workers may run as another user: everything in a snapshot is readable by all.
// The snapshot root: others may pass through to a snapshot they know the
// name of (a worker user), not list the snapshots.
constexpr mode_t kRootMode = 0711;
// A directory while it is filled; its source's mode and owner come last.
constexpr mode_t kFillingDirMode = 0700;
constexpr mode_t kWriteBits = 0222;
// Files and directories one snapshot may hold.
constexpr size_t kMaxSnapshotEntries = 100000;
constexpr mode_t kPermissionBits = 0777;

Status Errno(const std::string& what, const std::string& path) {
  return Internal(path + ": cannot " + what + ": " + std::strerror(errno));
}

// Closes on every path out.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Closes now and reports the error (a delayed write error shows here).
  bool Close() {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0;
  }

 private:
  int fd_;
};

// Reads up to `n` bytes, retrying on EINTR; -1 on error.
ssize_t ReadSome(int fd, char* buf, size_t n) {
  ssize_t got;
  do {
    got = ::read(fd, buf, n);
  } while (got < 0 && errno == EINTR);
  return got;
}

bool WriteAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Gives `path` the permission bits and, when the daemon is root, the owner
// of its source: a worker user can read exactly what it could read in the
// repository, no more (a directory only root may read stays so).
// Write bits are dropped: a snapshot is never edited in place.
Status Mirror(int fd, const std::string& path, uint32_t mode, uint32_t uid, uint32_t gid) {
  if (::geteuid() == 0 && ::fchown(fd, uid, gid) != 0) return Errno("chown", path);
  // fchmod, not open's mode: the umask must not take the bits away.
  if (::fchmod(fd, mode & kPermissionBits & ~kWriteBits) != 0) return Errno("chmod", path);
  return Status::Ok();
}

// `from` (a regular file, a symlink's target) to the new file `to`, with
// `from`'s permission bits and owner (Mirror).
Status CopyFile(const TreeEntry& from, const std::string& to, std::vector<char>& buf) {
  Fd in(::open(from.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return Errno("open", from.path);
  Fd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (out.get() < 0) return Errno("create", to);
  for (;;) {
    const ssize_t got = ReadSome(in.get(), buf.data(), buf.size());
    if (got < 0) return Errno("read", from.path);
    if (got == 0) break;
    if (!WriteAll(out.get(), buf.data(), static_cast<size_t>(got))) return Errno("write", to);
  }
  if (Status s = Mirror(out.get(), to, from.mode, from.uid, from.gid); !s.ok()) return s;
  if (!out.Close()) return Errno("write", to);
  return Status::Ok();
}

// Mirrors a directory once everything under it was written (a source
// directory without write permission would stop the copy otherwise).
Status MirrorDir(const std::string& path, uint32_t mode, uint32_t uid, uint32_t gid) {
  Fd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) return Errno("open", path);
  return Mirror(dir.get(), path, mode, uid, gid);
}

// Copies the tree under `from` into the existing directory `to`.
Status CopyTree(const std::string& from, const std::string& to) {
  std::vector<char> buf(kCopyBufferBytes);
  std::vector<TreeEntry> dirs;  // mirrored last, deepest first
  Status failed;
  size_t entries = 0;
  const Status walked = WalkTree(from, [&](const TreeEntry& e) {
    if (++entries > kMaxSnapshotEntries) {
      failed = Internal(from + ": more than " + std::to_string(kMaxSnapshotEntries) +
                        " files and directories (a symlink to a large tree?)");
      return false;
    }
    const std::string dst = to + "/" + e.rel;
    switch (e.type) {
      case TreeEntry::Type::kDirectory:
        if (::mkdir(dst.c_str(), kFillingDirMode) != 0) {
          failed = Errno("create the directory", dst);
        }
        dirs.push_back(e);
        break;
      case TreeEntry::Type::kFile:
        failed = CopyFile(e, dst, buf);
        break;
      case TreeEntry::Type::kOther:
        failed = Internal(e.path +
                          ": not a regular file or directory (a snapshot copies only "
                          "those)");
        break;
    }
    return failed.ok();
  });
  if (!walked.ok()) return walked;
  if (!failed.ok()) return failed;
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    if (Status s = MirrorDir(to + "/" + it->rel, it->mode, it->uid, it->gid); !s.ok()) return s;
  }
  struct stat st {};
  if (::stat(from.c_str(), &st) != 0) return Errno("stat", from);
  return MirrorDir(to, st.st_mode, st.st_uid, st.st_gid);
}

// SHA-256 over the tree under `dir` (each entry's kind, relative path, and
// for a file its size and bytes) followed by `config_json`.
StatusOr<std::string> HashTree(const std::string& dir, const std::string& config_json) {
  Sha256 h;
  std::vector<char> buf(kCopyBufferBytes);
  Status failed;
  const Status walked = WalkTree(dir, [&](const TreeEntry& e) {
    if (e.type == TreeEntry::Type::kDirectory) {
      h.Update("d");
      h.UpdateField(e.rel);
      return true;
    }
    h.Update("f");
    h.UpdateField(e.rel);
    h.UpdateU64(e.size);
    Fd in(::open(e.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (in.get() < 0) {
      failed = Errno("open", e.path);
      return false;
    }
    uint64_t total = 0;
    for (;;) {
      const ssize_t got = ReadSome(in.get(), buf.data(), buf.size());
      if (got < 0) {
        failed = Errno("read", e.path);
        return false;
      }
      if (got == 0) break;
      h.Update(std::string_view(buf.data(), static_cast<size_t>(got)));
      total += static_cast<uint64_t>(got);
    }
    if (total != e.size) {
      failed = Internal(e.path + ": changed while it was hashed");
      return false;
    }
    return true;
  });
  if (!walked.ok()) return walked;
  if (!failed.ok()) return failed;
  h.Update("c");
  h.UpdateField(config_json);
  return h.HexDigest();
}

// The root must be a directory of ours (not a symlink, not someone else's:
// whoever owns it could swap a snapshot under the workers).
Status EnsureRoot(const std::string& root) {
  struct stat st {};
  if (::lstat(root.c_str(), &st) != 0) {
    if (errno != ENOENT) return Errno("stat", root);
    std::error_code ec;
    fs::create_directories(root, ec);
    if (ec) return Internal(root + ": cannot create the snapshot directory: " + ec.message());
    if (::lstat(root.c_str(), &st) != 0) return Errno("stat", root);
  }
  if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid()) {
    return Internal(root + ": not a directory of this process's user (refused as snapshot root)");
  }
  if ((st.st_mode & kPermissionBits) != kRootMode && ::chmod(root.c_str(), kRootMode) != 0) {
    return Errno("chmod", root);
  }
  return Status::Ok();
}

StatusOr<VersionSnapshot> Snapshot(const std::string& model, const VersionEntry& v,
                                   const std::string& root, const std::string& tmp) {
  if (Status s = CopyTree(v.dir, tmp); !s.ok()) return s;
  auto digest = HashTree(tmp, v.config_json);
  if (!digest.ok()) return digest.status();
  VersionSnapshot snap;
  snap.fingerprint = digest->substr(0, kFingerprintHexChars);
  snap.dir = root + "/" + model + "-" + std::to_string(v.version) + "-" + snap.fingerprint;
  if (::rename(tmp.c_str(), snap.dir.c_str()) == 0) return snap;
  // The same content was snapshotted before (or concurrently): reuse it.
  if (errno == EEXIST || errno == ENOTEMPTY) {
    RemoveSnapshot(tmp);
    snap.reused = true;
    return snap;
  }
  return Internal(tmp + ": cannot rename to " + snap.dir + ": " + std::strerror(errno));
}

}  // namespace

StatusOr<VersionSnapshot> SnapshotVersion(const std::string& model, const VersionEntry& v,
                                          const std::string& root) {
  if (Status s = EnsureRoot(root); !s.ok()) return s;
  std::string tmp = root + "/." + model + "-" + std::to_string(v.version) + ".tmp-XXXXXX";
  if (::mkdtemp(tmp.data()) == nullptr) return Errno("create a directory like", tmp);
  auto snap = Snapshot(model, v, root, tmp);
  if (!snap.ok()) RemoveSnapshot(tmp);
  return snap;
}

namespace {

// A mirrored directory may lack its owner's write or search bit (a read-only
// source); give it back, top down, so that everything below can go.
void MakeRemovable(const fs::path& dir, int depth) {
  std::error_code ec;
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::add | fs::perm_options::nofollow,
                  ec);
  if (depth >= kMaxTreeDepth) return;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_directory(ec) && !e.is_symlink(ec)) MakeRemovable(e.path(), depth + 1);
  }
}

}  // namespace

void RemoveSnapshot(const std::string& dir) {
  std::error_code ec;
  if (::geteuid() != 0 && fs::is_directory(dir, ec)) MakeRemovable(dir, 0);
  fs::remove_all(dir, ec);
  if (ec) LogWarn("snapshot_remove_failed", {{"dir", dir}, {"error", ec.message()}});
}

}  // namespace modelgate
