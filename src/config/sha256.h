// Incremental SHA-256 (OpenSSL libcrypto EVP) for the repository's change
// signatures and version fingerprints. One instance per digest; not
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace modelgate {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view bytes);
  // A field framed by its length (8 bytes, little-endian) so that
  // consecutive fields cannot run into each other ("ab","c" vs "a","bc").
  void UpdateField(std::string_view bytes);
  void UpdateU64(uint64_t v);
  // The digest as 64 lowercase hex digits; the instance is spent after it.
  std::string HexDigest();

 private:
  evp_md_ctx_st* ctx_;
};

}  // namespace modelgate
