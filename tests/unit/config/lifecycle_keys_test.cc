// version_policy, traffic and warmup in config.json: each shape reaches its
// field, and each mistake is an error naming the file, the key path and what
// is wrong. (Types, bounds and unknown keys of their tables are covered
// table-driven in model_config_keys_test.cc.)
#include "config/lifecycle_keys.h"

#include <gtest/gtest.h>

#include <cstring>

#include "config/config_bounds.h"
#include "modelgate/model_config.h"

namespace modelgate {
namespace {

// Inputs x (FP64 [-1]) and n (INT32 [2]) plus `extra` keys.
StatusOr<ModelConfig> Parse(const std::string& extra) {
  const std::string text =
      R"({"backend": "python", "inputs": [{"name": "x", "datatype": "FP64", "shape": [-1]},
                                          {"name": "n", "datatype": "INT32", "shape": [2]}])" +
      (extra.empty() ? "" : ", " + extra) + "}";
  return ParseModelConfig(text, "m/config.json", "m");
}

void ExpectError(const StatusOr<ModelConfig>& c, const std::string& key,
                 const std::string& reason) {
  ASSERT_FALSE(c.ok()) << key;
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  const std::string prefix = "m/config.json: key '" + key + "': ";
  EXPECT_EQ(c.status().message().rfind(prefix, 0), 0u) << c.status().message();
  EXPECT_NE(c.status().message().find(reason), std::string::npos) << c.status().message();
}

constexpr char kWarmX[] = R"({"name": "x", "datatype": "FP64", "shape": [3], "data": [1, 2, 3]})";
constexpr char kWarmN[] = R"({"name": "n", "datatype": "INT32", "shape": [2], "data": [[4, 5]]})";

std::string Warmup(const std::string& inputs) {
  return R"("warmup": [{"inputs": [)" + inputs + "]}]";
}

TEST(VersionPolicyTest, DefaultIsTheLatestVersion) {
  auto c = Parse("");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->version_policy.kind, VersionPolicy::Kind::kLatest);
  EXPECT_EQ(c->version_policy.num_versions, 1);
  EXPECT_TRUE(c->traffic.empty());
  EXPECT_TRUE(c->warmup.empty());
}

TEST(VersionPolicyTest, EachShapeReachesTheField) {
  auto c = Parse(R"("version_policy": {"latest": {"num_versions": 3}})");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->version_policy.kind, VersionPolicy::Kind::kLatest);
  EXPECT_EQ(c->version_policy.num_versions, 3);

  c = Parse(R"("version_policy": {"latest": {}})");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->version_policy.num_versions, 1);

  c = Parse(R"("version_policy": {"all": {}})");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->version_policy.kind, VersionPolicy::Kind::kAll);

  c = Parse(R"("version_policy": {"specific": {"versions": [4, 1, 2]}})");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->version_policy.kind, VersionPolicy::Kind::kSpecific);
  EXPECT_EQ(c->version_policy.versions, (std::vector<int64_t>{1, 2, 4}));
}

TEST(VersionPolicyTest, MistakesNameTheKeyPath) {
  ExpectError(Parse(R"("version_policy": {})"), "version_policy", "exactly one of latest, all");
  ExpectError(Parse(R"("version_policy": {"all": {}, "latest": {}})"), "version_policy",
              "exactly one of latest, all, specific; it holds 2");
  ExpectError(Parse(R"("version_policy": "latest")"), "version_policy",
              "must be an object holding one of latest, all, specific");
  ExpectError(Parse(R"("version_policy": {"newest": {}})"), "version_policy.newest",
              "unknown key (expected latest, all, specific)");
  ExpectError(Parse(R"("version_policy": {"all": {"x": 1}})"), "version_policy.all", "must be {}");
  ExpectError(Parse(R"("version_policy": {"latest": {"num_versions": 0}})"),
              "version_policy.latest.num_versions", "must be between 1 and 1000, got 0");
  ExpectError(Parse(R"("version_policy": {"specific": {}})"), "version_policy.specific.versions",
              "is required");
  ExpectError(Parse(R"("version_policy": {"specific": {"versions": []}})"),
              "version_policy.specific.versions", "non-empty array of version numbers");
  ExpectError(Parse(R"("version_policy": {"specific": {"versions": [1, 0]}})"),
              "version_policy.specific.versions[1]", "must be between 1 and");
  ExpectError(Parse(R"("version_policy": {"specific": {"versions": [2, 2]}})"),
              "version_policy.specific.versions[1]", "version 2 is listed twice");
  ExpectError(Parse(R"("version_policy": {"specific": {"versions": ["1"]}})"),
              "version_policy.specific.versions[0]", "must be an integer");
}

TEST(TrafficTest, WeightsReachTheField) {
  auto c = Parse(R"("traffic": {"1": 90, "2": 10, "7": 0})");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->traffic, (std::map<int64_t, int64_t>{{1, 90}, {2, 10}, {7, 0}}));
}

TEST(TrafficTest, MistakesNameTheVersion) {
  ExpectError(Parse(R"("traffic": {})"), "traffic", "must be an object of version to weight");
  ExpectError(Parse(R"("traffic": [90, 10])"), "traffic", "must be an object of version to weight");
  for (const char* bad : {"0", "01", "v1", "-1", "1.5", "", "1234567890123456789"}) {
    ExpectError(Parse(R"("traffic": {")" + std::string(bad) + R"(": 1})"),
                std::string("traffic.") + bad, "is not a version number");
  }
  ExpectError(Parse(R"("traffic": {"1": -1})"), "traffic.1", "must be between 0 and 1000000");
  ExpectError(Parse(R"("traffic": {"1": 1000001})"), "traffic.1", "must be between 0 and 1000000");
  ExpectError(Parse(R"("traffic": {"1": 0.5})"), "traffic.1", "must be an integer");
  ExpectError(Parse(R"("traffic": {"1": 0, "2": 0})"), "traffic", "every version weight 0");
}

TEST(WarmupTest, InputsAreDecodedAsV2JsonTensors) {
  auto c = Parse(R"("warmup": [{"inputs": [)" + std::string(kWarmX) + ", " + kWarmN +
                 R"(]}, {"inputs": [)" + kWarmN + ", " + kWarmX + "]}]");
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->warmup.size(), 2u);
  const auto& inputs = c->warmup[0].inputs;
  ASSERT_EQ(inputs.size(), 2u);
  EXPECT_EQ(inputs[0].name, "x");
  EXPECT_EQ(inputs[0].datatype, DataType::kFp64);
  EXPECT_EQ(inputs[0].shape, (std::vector<int64_t>{3}));
  ASSERT_EQ(inputs[0].raw.size(), 3 * sizeof(double));
  double third = 0;
  std::memcpy(&third, inputs[0].raw.data() + 2 * sizeof(double), sizeof third);
  EXPECT_EQ(third, 3.0);
  EXPECT_EQ(inputs[1].name, "n");
  EXPECT_EQ(inputs[1].datatype, DataType::kInt32);
  EXPECT_EQ(inputs[1].HeldElements(), 2);
  EXPECT_EQ(c->warmup[1].inputs[0].name, "n");
}

TEST(WarmupTest, EntryMistakesNameTheEntry) {
  ExpectError(Parse(R"("warmup": {"inputs": []})"), "warmup", "must be an array");
  std::string many;
  for (size_t i = 0; i <= config_limits::kMaxWarmupRequests; ++i) {
    many += (i ? ", " : "") + std::string(R"({"inputs": [)") + kWarmX + ", " + kWarmN + "]}";
  }
  ExpectError(Parse(R"("warmup": [)" + many + "]"), "warmup",
              "has 17 requests; at most 16 are allowed");
  ExpectError(Parse(R"("warmup": [{}])"), "warmup[0].inputs", "is required");
  ExpectError(Parse(R"("warmup": [{"inputs": []}])"), "warmup[0].inputs", "non-empty array");
  ExpectError(Parse(R"("warmup": [{"inputs": [1]}])"), "warmup[0].inputs[0]",
              "must be an object with name, datatype, shape, data");
  ExpectError(Parse(R"("warmup": [{"inputs": [)" + std::string(kWarmX) + ", " + kWarmN +
                    R"(], "parameters": {}}])"),
              "warmup[0].parameters", "unknown key (expected inputs)");
}

TEST(WarmupTest, InputMistakesNameTheInputAndWhatIsWrong) {
  ExpectError(Parse(Warmup(R"({"name": "x", "datatype": "FP64", "shape": [1]})")),
              "warmup[0].inputs[0].data", "is required");
  ExpectError(Parse(Warmup(R"({"name": "x", "datatype": "FP64", "shape": [1], "data": [1],
                                "parameters": {}})")),
              "warmup[0].inputs[0].parameters",
              "unknown key (expected name, datatype, shape, data)");
  ExpectError(Parse(Warmup(R"({"name": "x", "datatype": "FLOAT", "shape": [1], "data": [1]})")),
              "warmup[0].inputs[0].datatype", "'FLOAT' is not a V2 datatype");
  ExpectError(Parse(Warmup(R"({"name": "x", "datatype": "FP64", "shape": [-1], "data": [1]})")),
              "warmup[0].inputs[0].shape[0]", "must be between 0 and");
  ExpectError(Parse(Warmup(R"({"name": "x", "datatype": "FP64", "shape": [3], "data": [1, 2]})")),
              "warmup[0].inputs[0].data", "input 'x'");
  ExpectError(Parse(Warmup(R"({"name": "x", "datatype": "FP64", "shape": [1], "data": ["a"]})")),
              "warmup[0].inputs[0].data", "FP64 data must be numbers");
  ExpectError(Parse(Warmup(std::string(kWarmX) + R"(, {"name": "y", "datatype": "FP64",
                                                     "shape": [1], "data": [1]})")),
              "warmup[0].inputs[1].name", "'y' is not a declared input (inputs: x, n)");
  ExpectError(Parse(Warmup(std::string(kWarmX) + ", " + kWarmX)), "warmup[0].inputs[1].name",
              "input 'x' is given twice");
  ExpectError(
      Parse(Warmup(std::string(kWarmX) +
                   R"(, {"name": "n", "datatype": "INT64", "shape": [2], "data": [4, 5]})")),
      "warmup[0].inputs[1].datatype", "INT64 does not match the declared INT32 of input 'n'");
  ExpectError(Parse(Warmup(std::string(kWarmX) +
                           R"(, {"name": "n", "datatype": "INT32", "shape": [1], "data": [4]})")),
              "warmup[0].inputs[1].shape", "[1] does not match the declared [2] of input 'n'");
  ExpectError(Parse(Warmup(kWarmX)), "warmup[0].inputs", "misses the declared input 'n'");
}

TEST(WarmupTest, AnOptionalInputMayBeLeftOut) {
  const std::string config =
      R"({"backend": "python", "inputs": [{"name": "x", "datatype": "FP64", "shape": [-1]},
          {"name": "n", "datatype": "INT32", "shape": [2], "optional": true}], )" +
      Warmup(kWarmX) + "}";
  auto c = ParseModelConfig(config, "m/config.json", "m");
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->warmup.size(), 1u);
  EXPECT_EQ(c->warmup[0].inputs.size(), 1u);
}

TEST(VersionNameTest, PositiveIntegersWithoutLeadingZeros) {
  for (const char* ok : {"1", "9", "10", "123456789012345678"})
    EXPECT_TRUE(IsVersionName(ok)) << ok;
  for (const char* bad : {"", "0", "01", "1a", "-1", "+1", " 1", "1234567890123456789"}) {
    EXPECT_FALSE(IsVersionName(bad)) << bad;
  }
}

}  // namespace
}  // namespace modelgate
