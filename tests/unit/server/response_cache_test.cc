#include "server/response_cache.h"

#include <gtest/gtest.h>

#include <chrono>

namespace modelgate {
namespace {

using std::chrono::milliseconds;

Tensor Fp64(const std::string& name, std::vector<double> values) {
  Tensor t;
  t.name = name;
  t.datatype = DataType::kFp64;
  t.shape = {static_cast<int64_t>(values.size())};
  t.raw.assign(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(double));
  return t;
}

InferRequest Request(double x) {
  InferRequest r;
  r.model = "m";
  r.id = "id-1";
  r.inputs.push_back(Fp64("x", {x}));
  return r;
}

ResponseCacheConfig Config(int64_t entries, int64_t bytes = int64_t{1} << 20, int64_t ttl = 0) {
  ResponseCacheConfig c;
  c.enabled = true;
  c.max_entries = entries;
  c.max_bytes = bytes;
  c.ttl_ms = ttl;
  return c;
}

const SteadyTime kT0 = SteadyTime() + std::chrono::hours(1);

TEST(ResponseCacheTest, HitReturnsTheStoredOutputsAndCountsHitsAndMisses) {
  ResponseCache cache(Config(8), nullptr);
  auto key = cache.KeyOf(Request(1.5));
  ASSERT_TRUE(key);
  EXPECT_FALSE(cache.Lookup(*key, kT0));
  cache.Insert(*key, {Fp64("y", {3.0})}, kT0);
  auto hit = cache.Lookup(*key, kT0);
  ASSERT_TRUE(hit);
  ASSERT_EQ(hit->size(), 1u);
  EXPECT_EQ((*hit)[0].name, "y");
  EXPECT_EQ((*hit)[0].raw, Fp64("y", {3.0}).raw);
  EXPECT_FALSE(cache.Lookup(*cache.KeyOf(Request(2.5)), kT0));
  const auto c = cache.counts();
  EXPECT_EQ(c.hits, 1u);
  EXPECT_EQ(c.misses, 2u);
  EXPECT_EQ(c.entries, 1u);
}

// The key covers everything the answer depends on, and nothing else (the
// request id and the model name do not change the answer of one version).
TEST(ResponseCacheTest, KeyCoversInputsParametersAndRequestedOutputs) {
  ResponseCache cache(Config(8), nullptr);
  const std::string base = *cache.KeyOf(Request(1));
  InferRequest other_id = Request(1);
  other_id.id = "id-2";
  EXPECT_EQ(*cache.KeyOf(other_id), base);

  std::vector<InferRequest> different;
  different.push_back(Request(2));
  different.push_back(Request(1));
  different.back().inputs[0].name = "z";
  different.push_back(Request(1));
  different.back().inputs[0].datatype = DataType::kInt64;
  different.push_back(Request(1));
  different.back().inputs[0].shape = {1, 1};
  different.push_back(Request(1));
  different.back().parameters["threshold"] = int64_t{1};
  different.push_back(Request(1));
  different.back().parameters["threshold"] = 1.0;  // same number, other type
  different.push_back(Request(1));
  different.back().requested_outputs = {"y"};
  // Length-prefixed: two strings "ab","c" never collide with "a","bc".
  InferRequest s1;
  Tensor a;
  a.name = "s";
  a.datatype = DataType::kBytes;
  a.shape = {2};
  a.strings = {"ab", "c"};
  s1.inputs.push_back(a);
  InferRequest s2 = s1;
  s2.inputs[0].strings = {"a", "bc"};
  EXPECT_NE(*cache.KeyOf(s1), *cache.KeyOf(s2));
  for (const InferRequest& r : different) EXPECT_NE(*cache.KeyOf(r), base);
}

TEST(ResponseCacheTest, LeastRecentlyUsedGoesFirstAtMaxEntries) {
  ResponseCache cache(Config(2), nullptr);
  const auto k1 = *cache.KeyOf(Request(1)), k2 = *cache.KeyOf(Request(2)),
             k3 = *cache.KeyOf(Request(3));
  cache.Insert(k1, {Fp64("y", {1})}, kT0);
  cache.Insert(k2, {Fp64("y", {2})}, kT0);
  ASSERT_TRUE(cache.Lookup(k1, kT0));  // k2 is now the least recently used
  cache.Insert(k3, {Fp64("y", {3})}, kT0);
  EXPECT_TRUE(cache.Lookup(k1, kT0));
  EXPECT_FALSE(cache.Lookup(k2, kT0));
  EXPECT_TRUE(cache.Lookup(k3, kT0));
  EXPECT_EQ(cache.counts().entries, 2u);
  EXPECT_EQ(cache.counts().evictions, 1u);
}

TEST(ResponseCacheTest, MaxBytesBoundsTheCacheAndRefusesOversizedAnswers) {
  ResponseCache cache(Config(1000, 2048), nullptr);
  // Each answer of 80 doubles is 640 bytes plus key and overhead: at most 2 fit.
  for (int i = 0; i < 10; ++i) {
    cache.Insert(*cache.KeyOf(Request(i)), {Fp64("y", std::vector<double>(80, i))}, kT0);
    EXPECT_LE(cache.counts().bytes, 2048u);
  }
  EXPECT_EQ(cache.counts().entries, 2u);
  EXPECT_TRUE(cache.Lookup(*cache.KeyOf(Request(9)), kT0));
  // An answer larger than the whole cache is not kept and evicts nothing.
  cache.Insert(*cache.KeyOf(Request(100)), {Fp64("y", std::vector<double>(300, 1))}, kT0);
  EXPECT_EQ(cache.counts().entries, 2u);
  EXPECT_FALSE(cache.Lookup(*cache.KeyOf(Request(100)), kT0));
  // A request larger than the cache has no key: it is never copied.
  InferRequest big = Request(0);
  big.inputs[0] = Fp64("x", std::vector<double>(300, 1));
  EXPECT_FALSE(cache.KeyOf(big));
}

TEST(ResponseCacheTest, EntriesExpireAfterTheTtl) {
  ResponseCache cache(Config(8, 1 << 20, /*ttl=*/100), nullptr);
  const auto key = *cache.KeyOf(Request(1));
  cache.Insert(key, {Fp64("y", {1})}, kT0);
  EXPECT_TRUE(cache.Lookup(key, kT0 + milliseconds(99)));
  EXPECT_FALSE(cache.Lookup(key, kT0 + milliseconds(100)));
  EXPECT_EQ(cache.counts().entries, 0u);
  EXPECT_EQ(cache.counts().evictions, 1u);
}

TEST(ResponseCacheTest, ClearEmptiesAndReinsertReplaces) {
  ResponseCache cache(Config(8), nullptr);
  const auto key = *cache.KeyOf(Request(1));
  cache.Insert(key, {Fp64("y", {1})}, kT0);
  cache.Insert(key, {Fp64("y", {2})}, kT0);
  EXPECT_EQ(cache.counts().entries, 1u);
  EXPECT_EQ((*cache.Lookup(key, kT0))[0].raw, Fp64("y", {2}).raw);
  cache.Clear();
  EXPECT_EQ(cache.counts().entries, 0u);
  EXPECT_EQ(cache.counts().bytes, 0u);
  EXPECT_FALSE(cache.Lookup(key, kT0));
}

// An answer computed for a miss before a reload's Clear() is not kept: the
// reload is why the cache was emptied.
TEST(ResponseCacheTest, AnAnswerFromBeforeAClearIsNotKept) {
  ResponseCache cache(Config(8), nullptr);
  const auto key = *cache.KeyOf(Request(1));
  uint64_t before = 99;
  ASSERT_FALSE(cache.Lookup(key, kT0, &before));
  cache.Clear();
  cache.Insert(key, {Fp64("y", {1})}, kT0, before);
  EXPECT_EQ(cache.counts().entries, 0u);
  uint64_t after = 99;
  ASSERT_FALSE(cache.Lookup(key, kT0, &after));
  EXPECT_NE(after, before);
  cache.Insert(key, {Fp64("y", {1})}, kT0, after);
  EXPECT_TRUE(cache.Lookup(key, kT0));
}

}  // namespace
}  // namespace modelgate
