#include "server/response_cache.h"

#include <type_traits>

namespace modelgate {

namespace {

// Bookkeeping counted per entry besides its bytes (list node, index slot,
// vectors), so a flood of tiny answers is bounded by max_bytes too.
constexpr size_t kEntryOverhead = 128;

void PutLength(std::string& key, size_t n) {
  const uint64_t v = n;
  key.append(reinterpret_cast<const char*>(&v), sizeof v);
}

void PutBytes(std::string& key, std::string_view bytes) {
  PutLength(key, bytes.size());
  key.append(bytes);
}

size_t OutputBytes(const std::vector<Tensor>& outputs) {
  size_t n = 0;
  for (const Tensor& t : outputs) {
    n += t.name.size() + t.raw.size() + t.shape.size() * sizeof(int64_t);
    for (const std::string& s : t.strings) n += s.size() + sizeof(std::string);
  }
  return n;
}

}  // namespace

std::optional<std::string> ResponseCache::KeyOf(const InferRequest& request) const {
  // Sized first: a request bigger than the whole cache is never copied.
  size_t size = 0;
  for (const Tensor& t : request.inputs) {
    size += t.name.size() + t.raw.size() + t.shape.size() * 8 + 32;
    for (const std::string& s : t.strings) size += s.size() + 8;
  }
  if (size + kEntryOverhead > static_cast<uint64_t>(config_.max_bytes)) return std::nullopt;

  std::string key;
  key.reserve(size + 64);
  PutLength(key, request.inputs.size());
  for (const Tensor& t : request.inputs) {
    PutBytes(key, t.name);
    PutLength(key, static_cast<size_t>(t.datatype));
    PutLength(key, t.shape.size());
    for (int64_t d : t.shape) PutLength(key, static_cast<size_t>(d));
    PutBytes(key, t.raw);
    PutLength(key, t.strings.size());
    for (const std::string& s : t.strings) PutBytes(key, s);
  }
  PutLength(key, request.parameters.size());
  for (const auto& [name, value] : request.parameters) {
    PutBytes(key, name);
    PutLength(key, value.index());
    std::visit(
        [&key](const auto& v) {
          if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::string>) {
            PutBytes(key, v);
          } else {
            key.append(reinterpret_cast<const char*>(&v), sizeof v);
          }
        },
        value);
  }
  PutLength(key, request.requested_outputs.size());
  for (const std::string& o : request.requested_outputs) PutBytes(key, o);
  return key;
}

std::optional<std::vector<Tensor>> ResponseCache::Lookup(const std::string& key, SteadyTime now,
                                                         uint64_t* generation) {
  MutexLock lock(mu_);
  if (generation) *generation = generation_;
  auto found = index_.find(key);
  if (found == index_.end()) {
    ++counts_.misses;
    if (metrics_) metrics_->RecordCacheMiss();
    return std::nullopt;
  }
  Lru::iterator it = found->second;
  if (config_.ttl_ms > 0 && now - it->stored >= std::chrono::milliseconds(config_.ttl_ms)) {
    EraseLocked(it);
    ++counts_.evictions;
    ++counts_.misses;
    if (metrics_) {
      metrics_->RecordCacheEvictions(1);
      metrics_->RecordCacheMiss();
    }
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, it);
  ++counts_.hits;
  if (metrics_) metrics_->RecordCacheHit();
  return it->outputs;
}

void ResponseCache::Insert(std::string key, const std::vector<Tensor>& outputs, SteadyTime now,
                           uint64_t generation) {
  const size_t bytes = key.size() + OutputBytes(outputs) + kEntryOverhead;
  if (bytes > static_cast<uint64_t>(config_.max_bytes)) return;
  MutexLock lock(mu_);
  if (generation != generation_) return;  // computed before a reload emptied the cache
  if (auto found = index_.find(key); found != index_.end()) {
    EraseLocked(found->second);  // a concurrent miss answered first: keep the newer
  }
  uint64_t evicted = 0;
  while (!lru_.empty() && (lru_.size() >= static_cast<uint64_t>(config_.max_entries) ||
                           bytes_ + bytes > static_cast<uint64_t>(config_.max_bytes))) {
    EraseLocked(std::prev(lru_.end()));
    ++evicted;
  }
  counts_.evictions += evicted;
  if (metrics_) metrics_->RecordCacheEvictions(evicted);
  lru_.push_front(Entry{std::move(key), outputs, bytes, now});
  index_.emplace(lru_.front().key, lru_.begin());
  bytes_ += bytes;
}

void ResponseCache::EraseLocked(Lru::iterator it) {
  bytes_ -= it->bytes;
  index_.erase(std::string_view(it->key));
  lru_.erase(it);
}

void ResponseCache::Clear() {
  MutexLock lock(mu_);
  index_.clear();
  lru_.clear();
  bytes_ = 0;
  ++generation_;
}

ResponseCache::Counts ResponseCache::counts() const {
  MutexLock lock(mu_);
  Counts c = counts_;
  c.entries = lru_.size();
  c.bytes = bytes_;
  return c;
}

}  // namespace modelgate
