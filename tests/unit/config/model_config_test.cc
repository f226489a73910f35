// The config keys of worker isolation: the deadline kill grace and limits.
#include "modelgate/model_config.h"

#include <gtest/gtest.h>

namespace modelgate {
namespace {

StatusOr<ModelConfig> Parse(const std::string& extra) {
  const std::string text =
      R"({"backend": "python", "inputs": [{"name": "x", "datatype": "FP64", "shape": [-1]}])" +
      (extra.empty() ? "" : ", " + extra) + "}";
  return ParseModelConfig(text, "m/config.json", "m");
}

TEST(ModelConfigTest, DeadlineKillGraceDefaultsToOneSecondAndIsValidated) {
  auto c = Parse("");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->deadline_kill_grace_ms, 1000);
  c = Parse(R"("deadline_kill_grace_ms": 250)");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->deadline_kill_grace_ms, 250);
  c = Parse(R"("deadline_kill_grace_ms": -1)");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("m/config.json: key 'deadline_kill_grace_ms'"),
            std::string::npos)
      << c.status().message();
}

TEST(ModelConfigTest, LimitsHaveSaneDefaults) {
  auto c = Parse("");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->limits.address_space_bytes, uint64_t{16} << 30);
  EXPECT_EQ(c->limits.cpu_seconds, ResourceLimits::kUnlimited);
  EXPECT_EQ(c->limits.open_files, 4096u);
  EXPECT_EQ(c->limits.core_bytes, 0u);
  EXPECT_FALSE(c->limits.processes.has_value());
}

TEST(ModelConfigTest, LimitsTakeIntegersOrUnlimited) {
  auto c = Parse(
      R"("limits": {"address_space_mb": "unlimited", "cpu_seconds": 60, "open_files": 8192,
                    "core_mb": 2, "processes": 300})");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->limits.address_space_bytes, ResourceLimits::kUnlimited);
  EXPECT_EQ(c->limits.cpu_seconds, 60u);
  EXPECT_EQ(c->limits.open_files, 8192u);
  EXPECT_EQ(c->limits.core_bytes, uint64_t{2} << 20);
  EXPECT_EQ(c->limits.processes, 300u);
}

TEST(ModelConfigTest, BadLimitsNameTheKey) {
  for (const auto& [extra, key] : std::vector<std::pair<std::string, std::string>>{
           {R"("limits": {"open_files": "unlimited"})", "limits.open_files"},
           {R"("limits": {"cpu_seconds": "forever"})", "limits.cpu_seconds"},
           {R"("limits": {"address_space_mb": 1})", "limits.address_space_mb"},
           {R"("limits": {"threads": 4})", "limits.threads"}}) {
    auto c = Parse(extra);
    ASSERT_FALSE(c.ok()) << extra;
    EXPECT_NE(c.status().message().find("key '" + key + "'"), std::string::npos)
        << c.status().message();
  }
}

}  // namespace
}  // namespace modelgate
