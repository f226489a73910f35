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
constexpr mode_t kDirMode = 0755;
constexpr mode_t kMinFileMode = 0644;
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

// `from` (a regular file, a symlink's target) to the new file `to`, with
// `from`'s permission bits, at least kMinFileMode.
Status CopyFile(const std::string& from, const std::string& to, mode_t mode,
                std::vector<char>& buf) {
  Fd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return Errno("open", from);
  Fd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (out.get() < 0) return Errno("create", to);
  for (;;) {
    const ssize_t got = ReadSome(in.get(), buf.data(), buf.size());
    if (got < 0) return Errno("read", from);
    if (got == 0) break;
    if (!WriteAll(out.get(), buf.data(), static_cast<size_t>(got))) return Errno("write", to);
  }
  // fchmod, not open's mode: the umask must not take the bits away.
  if (::fchmod(out.get(), (mode & kPermissionBits) | kMinFileMode) != 0) return Errno("chmod", to);
  if (!out.Close()) return Errno("write", to);
  return Status::Ok();
}

Status MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), kDirMode) != 0) return Errno("create the directory", path);
  if (::chmod(path.c_str(), kDirMode) != 0) return Errno("chmod", path);
  return Status::Ok();
}

// Copies the tree under `from` into the existing directory `to`.
Status CopyTree(const std::string& from, const std::string& to) {
  std::vector<char> buf(kCopyBufferBytes);
  Status failed;
  const Status walked = WalkTree(from, [&](const TreeEntry& e) {
    const std::string dst = to + "/" + e.rel;
    switch (e.type) {
      case TreeEntry::Type::kDirectory:
        failed = MakeDir(dst);
        break;
      case TreeEntry::Type::kFile:
        failed = CopyFile(e.path, dst, e.mode, buf);
        break;
      case TreeEntry::Type::kOther:
        failed = Internal(e.path +
                          ": not a regular file or directory (a snapshot copies only "
                          "those)");
        break;
    }
    return failed.ok();
  });
  return walked.ok() ? failed : walked;
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

Status EnsureRoot(const std::string& root) {
  std::error_code ec;
  if (fs::is_directory(root, ec)) return Status::Ok();
  fs::create_directories(root, ec);
  if (ec) return Internal(root + ": cannot create the snapshot directory: " + ec.message());
  fs::permissions(root, static_cast<fs::perms>(kDirMode), ec);
  if (ec) return Internal(root + ": cannot chmod: " + ec.message());
  return Status::Ok();
}

StatusOr<VersionSnapshot> Snapshot(const std::string& model, const VersionEntry& v,
                                   const std::string& root, const std::string& tmp) {
  if (::chmod(tmp.c_str(), kDirMode) != 0) return Errno("chmod", tmp);
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

void RemoveSnapshot(const std::string& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) LogWarn("snapshot_remove_failed", {{"dir", dir}, {"error", ec.message()}});
}

}  // namespace modelgate
