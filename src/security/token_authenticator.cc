#include "security/token_authenticator.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>

#include "modelgate/log_event.h"

namespace modelgate {

namespace {

constexpr std::string_view kHashPrefix = "sha256:";

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && IsSpace(line[i])) ++i;
    if (i == line.size()) break;
    size_t end = i;
    while (end < line.size() && !IsSpace(line[end])) ++end;
    if (line[i] == '#') break;  // a comment runs to the end of the line
    out.push_back(line.substr(i, end - i));
    i = end;
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool PrintableAscii(std::string_view s) {
  for (char c : s) {
    if (c < 0x21 || c > 0x7E) return false;
  }
  return true;
}

// "Bearer <token>" (scheme case-insensitive, RFC 7235) -> the token, or empty.
std::string_view BearerToken(std::string_view value) {
  constexpr std::string_view kScheme = "bearer";
  while (!value.empty() && IsSpace(value.front())) value.remove_prefix(1);
  while (!value.empty() && IsSpace(value.back())) value.remove_suffix(1);
  if (value.size() <= kScheme.size() || !IsSpace(value[kScheme.size()])) return {};
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(value[i])) != kScheme[i]) return {};
  }
  value.remove_prefix(kScheme.size());
  while (!value.empty() && IsSpace(value.front())) value.remove_prefix(1);
  if (!PrintableAscii(value)) return {};
  return value;
}

}  // namespace

TokenAuthenticator::Digest TokenAuthenticator::Sha256(std::string_view data) {
  Digest d{};
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), d.data(), &n, EVP_sha256(), nullptr);
  return d;
}

StatusOr<TokenAuthenticator::Table> TokenAuthenticator::Parse(std::string_view text,
                                                              const std::string& path) {
  Table table;
  std::map<Digest, int> seen;  // digest -> line, to name duplicates
  int line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    const std::string where = path + ":" + std::to_string(line_no) + ": ";
    if (line.size() > kMaxLineBytes) {
      return InvalidArgument(where + "line longer than " + std::to_string(kMaxLineBytes) +
                             " bytes");
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const auto fields = Fields(line);
    if (fields.empty()) continue;
    if (fields.size() != 2) {
      return InvalidArgument(where + "expected '<token or sha256:HEX> <scope>', found " +
                             std::to_string(fields.size()) + " field(s)");
    }
    Entry e;
    if (fields[1] == "infer") {
      e.scope = AuthScope::kInfer;
    } else if (fields[1] == "admin") {
      e.scope = AuthScope::kAdmin;
    } else {
      return InvalidArgument(where + "unknown scope '" + std::string(fields[1].substr(0, 32)) +
                             "' (the scopes are infer and admin)");
    }
    std::string_view token = fields[0];
    if (token.starts_with(kHashPrefix)) {
      std::string_view hex = token.substr(kHashPrefix.size());
      if (hex.size() != 2 * e.digest.size()) {
        return InvalidArgument(where + "sha256: needs 64 hex digits, found " +
                               std::to_string(hex.size()) + " characters");
      }
      for (size_t i = 0; i < e.digest.size(); ++i) {
        const int hi = HexValue(hex[2 * i]), lo = HexValue(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return InvalidArgument(where + "sha256: has a non-hex character");
        e.digest[i] = static_cast<unsigned char>(hi * 16 + lo);
      }
    } else {
      if (!PrintableAscii(token)) {
        return InvalidArgument(where + "the token has a character outside printable ASCII");
      }
      if (token.size() < kMinTokenBytes) {
        return InvalidArgument(where + "the token is " + std::to_string(token.size()) +
                               " characters long; at least " + std::to_string(kMinTokenBytes) +
                               " are required");
      }
      e.digest = Sha256(token);
    }
    auto [it, inserted] = seen.emplace(e.digest, line_no);
    if (!inserted) {
      return InvalidArgument(where + "the same token as line " + std::to_string(it->second));
    }
    table.push_back(e);
  }
  if (table.empty()) return InvalidArgument(path + ": defines no tokens");
  return table;
}

StatusOr<TokenAuthenticator::Table> TokenAuthenticator::LoadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument(path + ": cannot read: " + std::strerror(errno));
  std::string text(kMaxFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return InvalidArgument(path + ": cannot read: " + std::strerror(errno));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxFileBytes) {
    return InvalidArgument(path + ": larger than " + std::to_string(kMaxFileBytes) + " bytes");
  }
  return Parse(text, path);
}

void TokenAuthenticator::WarnIfWorldReadable(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & S_IROTH)) {
    LogWarn("auth token file is readable by every user; chmod 600 it", {{"file", path}});
  }
}

StatusOr<std::unique_ptr<TokenAuthenticator>> TokenAuthenticator::FromFile(std::string path) {
  auto table = LoadFile(path);
  if (!table.ok()) return table.status();
  WarnIfWorldReadable(path);
  return std::make_unique<TokenAuthenticator>(std::move(path), std::move(table).value());
}

TokenAuthenticator::TokenAuthenticator(std::string path, Table table)
    : path_(std::move(path)),
      stamp_(StampOf(path_)),
      table_(std::make_shared<const Table>(std::move(table))) {}

TokenAuthenticator::Stamp TokenAuthenticator::StampOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return {};
  return {st.st_dev, st.st_ino, st.st_size,
          static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

StatusOr<bool> TokenAuthenticator::ReloadIfChanged() {
  if (StampOf(path_) == stamp_) return false;
  if (Status s = Reload(); !s.ok()) return s;
  return true;
}

Status TokenAuthenticator::Reload() {
  stamp_ = StampOf(path_);
  auto table = LoadFile(path_);
  if (!table.ok()) return table.status();
  WarnIfWorldReadable(path_);
  auto fresh = std::make_shared<const Table>(std::move(table).value());
  MutexLock lock(mu_);
  table_ = std::move(fresh);
  return Status::Ok();
}

size_t TokenAuthenticator::size() const {
  MutexLock lock(mu_);
  return table_->size();
}

AuthResult TokenAuthenticator::Check(std::string_view authorization, AuthScope needed) const {
  const AuthResult r = Decide(authorization, needed);
  if (r != AuthResult::kAllowed && observer_) observer_(r);
  return r;
}

AuthResult TokenAuthenticator::Decide(std::string_view authorization, AuthScope needed) const {
  if (authorization.empty()) return AuthResult::kMissingToken;
  if (authorization.size() > kMaxCredentialBytes) return AuthResult::kInvalidToken;
  const std::string_view token = BearerToken(authorization);
  if (token.empty()) return AuthResult::kInvalidToken;
  const Digest presented = Sha256(token);
  std::shared_ptr<const Table> table;
  {
    MutexLock lock(mu_);
    table = table_;
  }
  // Every entry is compared, whatever matched before.
  int best = -1;
  for (const Entry& e : *table) {
    const int equal = CRYPTO_memcmp(e.digest.data(), presented.data(), presented.size()) == 0;
    best = std::max(best, equal ? static_cast<int>(e.scope) : -1);
  }
  if (best < 0) return AuthResult::kInvalidToken;
  return best >= static_cast<int>(needed) ? AuthResult::kAllowed : AuthResult::kInsufficientScope;
}

}  // namespace modelgate
