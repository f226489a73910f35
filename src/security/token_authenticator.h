// TokenAuthenticator: the bearer tokens of --auth-tokens FILE.
//
// File format, one token a line: `<token> <scope>` or `sha256:<64 hex> <scope>`
// (the SHA-256 of the token, so the file need not hold the secret), scope
// `infer` or `admin`; blank lines and lines starting with `#` are ignored, and
// so is the rest of a line from a field starting with `#`. Plain tokens are
// printable ASCII without spaces, at least kMinTokenBytes long.
//
// Only SHA-256 digests are kept in memory; a presented token is hashed and
// compared with every entry in constant time (CRYPTO_memcmp), so neither the
// comparison nor the loop stops early on a match.
//
// Thread-safe: Check() may run on any thread while Reload() swaps the whole
// table under a mutex (readers copy a shared_ptr and never block on I/O).
// Reload() and ReloadIfChanged() are called from one thread at a time.
#pragma once

#include <sys/types.h>

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/mutex.h"
#include "modelgate/authenticator.h"
#include "modelgate/status.h"

namespace modelgate {

class TokenAuthenticator final : public Authenticator {
 public:
  static constexpr size_t kMaxFileBytes = 1u << 20;
  static constexpr size_t kMaxLineBytes = 4096;
  static constexpr size_t kMinTokenBytes = 16;
  // A presented credential longer than this is rejected without hashing.
  static constexpr size_t kMaxCredentialBytes = kMaxLineBytes;

  using Digest = std::array<unsigned char, 32>;
  struct Entry {
    Digest digest;
    AuthScope scope;
  };
  using Table = std::vector<Entry>;

  // Parses a token file's text. Errors start with "<path>:<line>: " and say
  // what is wrong without echoing the token.
  static StatusOr<Table> Parse(std::string_view text, const std::string& path);
  // Reads (at most kMaxFileBytes) and parses `path`.
  static StatusOr<Table> LoadFile(const std::string& path);
  // An authenticator serving the tokens of `path` (logs a warning when the
  // file is readable by every user).
  static StatusOr<std::unique_ptr<TokenAuthenticator>> FromFile(std::string path);

  TokenAuthenticator(std::string path, Table table);

  // Re-reads the file. On error the current tokens stay in force and the
  // error is returned (the caller logs it).
  Status Reload() EXCLUDES(mu_);
  // Reload() when the file changed (device, inode, size or mtime) since the
  // last load or attempt; false when unchanged. A Secret updated by kubelet
  // (an atomic symlink swap) or an edited file is picked up without SIGHUP,
  // and a bad version is reported once, not on every check.
  StatusOr<bool> ReloadIfChanged();
  size_t size() const EXCLUDES(mu_);
  const std::string& path() const { return path_; }

  // Called with every denied result (for metrics); set before serving. Must
  // be thread-safe.
  void set_failure_observer(std::function<void(AuthResult)> observer) {
    observer_ = std::move(observer);
  }

  AuthResult Check(std::string_view authorization, AuthScope needed) const override;

  static Digest Sha256(std::string_view data);

 private:
  static void WarnIfWorldReadable(const std::string& path);
  AuthResult Decide(std::string_view authorization, AuthScope needed) const EXCLUDES(mu_);

  // What stat() said about the file at the last load or attempt.
  struct Stamp {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = -1;
    int64_t mtime_ns = 0;
    bool operator==(const Stamp&) const = default;
  };
  static Stamp StampOf(const std::string& path);

  const std::string path_;
  Stamp stamp_;  // reload callers only (one thread: the io thread)
  std::function<void(AuthResult)> observer_;
  mutable Mutex mu_;
  std::shared_ptr<const Table> table_ GUARDED_BY(mu_);  // replaced whole
};

}  // namespace modelgate
