// Table-driven over the key descriptors (ModelConfigReference): every key of
// every object rejects out-of-range values, wrong types and, when required,
// its absence, naming its own path; every object rejects unknown keys
// listing exactly its table's keys.
#include "config/model_config_keys.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <span>

#include "config/example_keys.h"
#include "config/lifecycle_keys.h"
#include "config/object_keys.h"
#include "modelgate/model_config.h"

namespace modelgate {
namespace {

using nlohmann::json;

// A config holding every object, with each required key set; valid.
// (version_policy holds one branch only: exactly one may be set.)
json Base() {
  return json::parse(R"({
    "backend": "python",
    "inputs": [{"name": "x", "datatype": "FP64", "shape": [-1]}],
    "rate_limit": {"requests_per_second": 1},
    "dynamic_batching": {"max_batch_size": 4},
    "version_policy": {"specific": {"versions": [1]}},
    "warmup": [{"inputs": [{"name": "x", "datatype": "FP64", "shape": [1], "data": [1]}]}],
    "examples": [{"inputs": [{"name": "x", "datatype": "FP64", "shape": [1], "data": [1]}],
                  "outputs": [{"name": "y", "data": [2]}]}],
    "drift": {"reference": "reference.json"}})");
}

// The JSON pointer of key `name` in the object at `path` ("", "limits",
// "inputs[0]", "version_policy.latest").
json::json_pointer Pointer(const std::string& path, const std::string& name) {
  std::string p;
  for (char ch : path) {
    if (ch == '.' || ch == '[') {
      p += '/';
    } else if (ch != ']') {
      p += ch;
    }
  }
  return json::json_pointer((path.empty() ? "" : "/" + p) + "/" + name);
}

std::string KeyPathOf(const TableReference& t, const KeyReference& k) {
  return t.path.empty() ? k.name : t.path + "." + k.name;
}

StatusOr<ModelConfig> ParseJson(const json& j) {
  return ParseModelConfig(j.dump(), "m/config.json", "m");
}

StatusOr<ModelConfig> With(const TableReference& t, const KeyReference& k, const json& v) {
  json j = Base();
  // A version_policy key is tried alone: a second branch would be an error.
  if (t.path.rfind("version_policy", 0) == 0) j["version_policy"] = json::object();
  j[Pointer(t.path, k.name)] = v;
  return ParseJson(j);
}

void ExpectRejectedNaming(const StatusOr<ModelConfig>& c, const std::string& path,
                          const std::string& what) {
  ASSERT_FALSE(c.ok()) << path << " accepted " << what;
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message().rfind("m/config.json: key '" + path + "': ", 0), 0u)
      << what << ": " << c.status().message();
}

bool Bounded(const KeyReference& k) {
  return k.kind == KeyKind::kInt || k.kind == KeyKind::kIntOrUnlimited ||
         k.kind == KeyKind::kNumber;
}

TEST(ModelConfigKeysTest, BaseConfigIsValid) {
  auto c = ParseJson(Base());
  ASSERT_TRUE(c.ok()) << c.status().message();
}

TEST(ModelConfigKeysTest, TablesCoverEveryObjectAndNumericKeysHaveBounds) {
  const auto tables = ModelConfigReference();
  std::vector<std::string> paths;
  size_t bounded = 0;
  for (const auto& t : tables) {
    paths.push_back(t.path);
    for (const auto& k : t.keys) {
      EXPECT_FALSE(k.type.empty()) << KeyPathOf(t, k);
      EXPECT_FALSE(k.default_value.empty()) << KeyPathOf(t, k);
      EXPECT_FALSE(k.description.empty()) << KeyPathOf(t, k);
      if (!Bounded(k)) continue;
      ++bounded;
      if (k.kind == KeyKind::kNumber) {
        EXPECT_LT(k.min_number, k.max_number) << KeyPathOf(t, k);
      } else {
        EXPECT_LT(k.min, k.max) << KeyPathOf(t, k);
      }
    }
  }
  EXPECT_EQ(paths, (std::vector<std::string>{
                       "", "inputs[0]", "circuit_breaker", "rate_limit", "recycle", "limits",
                       "dynamic_batching", "response_cache", "version_policy",
                       "version_policy.latest", "version_policy.specific", "warmup[0]", "drift",
                       "examples[0]", "examples[0].outputs[0]"}));
  EXPECT_GE(bounded, 20u);
}

TEST(ModelConfigKeysTest, EveryBoundedKeyAcceptsItsBoundsAndRejectsBeyondNamingTheKey) {
  for (const auto& t : ModelConfigReference()) {
    for (const auto& k : t.keys) {
      if (!Bounded(k)) continue;
      const std::string path = KeyPathOf(t, k);
      SCOPED_TRACE(path);
      if (k.kind == KeyKind::kNumber) {
        for (double ok : {k.min_number, k.max_number}) {
          auto c = With(t, k, ok);
          EXPECT_TRUE(c.ok()) << c.status().message();
        }
        const double below = std::nextafter(k.min_number, -INFINITY);
        const double above = std::nextafter(k.max_number, INFINITY);
        for (double bad : {below, above}) {
          auto c = With(t, k, bad);
          ExpectRejectedNaming(c, path, json(bad).dump());
          if (!c.ok()) {
            EXPECT_NE(c.status().message().find("must be between"), std::string::npos)
                << c.status().message();
          }
        }
        continue;
      }
      for (int64_t ok : {k.min, k.max}) {
        auto c = With(t, k, ok);
        EXPECT_TRUE(c.ok()) << ok << ": " << c.status().message();
      }
      std::vector<json> bad = {json(k.min - 1)};
      // Past int64 there is no "max + 1"; 2^64-1 arrives as an unsigned integer.
      bad.push_back(k.max == INT64_MAX ? json(UINT64_MAX) : json(k.max + 1));
      for (const json& v : bad) {
        auto c = With(t, k, v);
        ExpectRejectedNaming(c, path, v.dump());
        if (!c.ok()) {
          EXPECT_NE(c.status().message().find("must be between " + std::to_string(k.min) + " and " +
                                              std::to_string(k.max)),
                    std::string::npos)
              << c.status().message();
        }
      }
    }
  }
}

TEST(ModelConfigKeysTest, EveryKeyRejectsAWrongTypeNamingTheKey) {
  for (const auto& t : ModelConfigReference()) {
    for (const auto& k : t.keys) {
      const std::string path = KeyPathOf(t, k);
      std::vector<json> wrong = {k.kind == KeyKind::kBool ? json("yes") : json(true)};
      if (k.kind == KeyKind::kInt || k.kind == KeyKind::kIntOrUnlimited) {
        wrong.push_back(1.5);
        wrong.push_back("forever");
      }
      if (k.kind == KeyKind::kNumber || k.kind == KeyKind::kBool) wrong.push_back(json::object());
      for (const json& v : wrong) ExpectRejectedNaming(With(t, k, v), path, v.dump());
    }
  }
}

TEST(ModelConfigKeysTest, ChoicesAcceptEachChoiceAndRejectOthersListingThem) {
  size_t choice_keys = 0;
  for (const auto& t : ModelConfigReference()) {
    for (const auto& k : t.keys) {
      if (k.kind != KeyKind::kChoice) continue;
      ++choice_keys;
      ASSERT_EQ(k.choices.size(), 2u) << KeyPathOf(t, k);
      for (const auto& choice : k.choices) {
        auto c = With(t, k, choice);
        EXPECT_TRUE(c.ok()) << KeyPathOf(t, k) << "=" << choice << ": " << c.status().message();
      }
      auto c = With(t, k, "other");
      ExpectRejectedNaming(c, KeyPathOf(t, k), "\"other\"");
      EXPECT_NE(c.status().message().find("must be \"" + k.choices[0] + "\" or \"" + k.choices[1] +
                                          "\", got \"other\""),
                std::string::npos)
          << c.status().message();
    }
  }
  EXPECT_EQ(choice_keys, 2u);  // backend, circuit_breaker.window
}

TEST(ModelConfigKeysTest, EveryObjectRejectsAnUnknownKeyListingItsKeys) {
  for (const auto& t : ModelConfigReference()) {
    std::string expected;
    for (const auto& k : t.keys) expected += (expected.empty() ? "" : ", ") + k.name;
    json j = Base();
    j[Pointer(t.path, "bogus")] = 1;
    auto c = ParseJson(j);
    const std::string path = t.path.empty() ? "bogus" : t.path + ".bogus";
    ExpectRejectedNaming(c, path, "an unknown key");
    if (!c.ok()) {
      EXPECT_EQ(c.status().message(),
                "m/config.json: key '" + path + "': unknown key (expected " + expected + ")");
    }
  }
}

TEST(ModelConfigKeysTest, EveryRequiredKeyIsRequiredNamingIt) {
  size_t required = 0;
  for (const auto& t : ModelConfigReference()) {
    for (const auto& k : t.keys) {
      if (!k.required) continue;
      ++required;
      json j = Base();
      j.at(Pointer(t.path, k.name).parent_pointer()).erase(k.name);
      auto c = ParseJson(j);
      ExpectRejectedNaming(c, KeyPathOf(t, k), "a missing key");
      if (!c.ok()) {
        EXPECT_NE(c.status().message().find("is required"), std::string::npos)
            << c.status().message();
      }
    }
  }
  // backend, name, datatype, shape, requests_per_second, max_batch_size,
  // version_policy.specific.versions, warmup[0].inputs, drift.reference,
  // examples[0].inputs, examples[0].outputs, examples[0].outputs[0].name and
  // .data ("inputs" may be declared in the model's code instead)
  EXPECT_EQ(required, 13u);
}

template <typename T>
void ExpectEverySetterPresent(std::span<const Key<T>> keys, const char* table) {
  for (const Key<T>& k : keys) {
    EXPECT_TRUE(HasSetter(k)) << table << " key \"" << k.name << "\" has no setter for its kind";
  }
}

// The compile-time WellFormed check leaves setters out (GCC's UBSan build
// cannot compare lambda pointers in a constant expression); this covers them.
TEST(ModelConfigKeysTest, EveryKeyOfEveryTableHasTheSetterOfItsKind) {
  ExpectEverySetterPresent(ModelConfigKeys(), "top-level");
  ExpectEverySetterPresent(TensorSpecKeys(), "inputs/outputs");
  ExpectEverySetterPresent(CircuitBreakerKeys(), "circuit_breaker");
  ExpectEverySetterPresent(RateLimitKeys(), "rate_limit");
  ExpectEverySetterPresent(RecycleKeys(), "recycle");
  ExpectEverySetterPresent(BatchingKeys(), "dynamic_batching");
  ExpectEverySetterPresent(ResourceLimitKeys(), "limits");
  ExpectEverySetterPresent(VersionPolicyKeys(), "version_policy");
  ExpectEverySetterPresent(LatestPolicyKeys(), "version_policy.latest");
  ExpectEverySetterPresent(SpecificPolicyKeys(), "version_policy.specific");
  ExpectEverySetterPresent(WarmupRequestKeys(), "warmup");
  ExpectEverySetterPresent(ExampleRequestKeys(), "examples");
  ExpectEverySetterPresent(ExampleOutputKeys(), "examples[].outputs");
}

TEST(ModelConfigKeysTest, OptionalIsForInputsOnly) {
  json j = Base();
  j["inputs"][0]["optional"] = true;
  auto c = ParseJson(j);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->inputs[0].optional);
  EXPECT_FALSE(ParseJson(Base())->inputs[0].optional);
  json out = Base();
  out["outputs"] =
      json::array({{{"name", "y"}, {"datatype", "FP64"}, {"shape", {-1}}, {"optional", true}}});
  auto bad = ParseJson(out);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("key 'outputs[0].optional': is for inputs only"),
            std::string::npos)
      << bad.status().message();
}

}  // namespace
}  // namespace modelgate
