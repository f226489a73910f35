// The README's config reference is the one generated from the key tables.
#include "config/config_reference.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "config/model_config_keys.h"

namespace modelgate {
namespace {

std::string ReadReadme() {
  std::ifstream in(std::string(MODELGATE_SOURCE_DIR) + "/README.md");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ConfigReferenceTest, ReadmeMatchesTheKeyTables) {
  const std::string readme = ReadReadme();
  ASSERT_FALSE(readme.empty());
  auto section = ExtractConfigReference(readme);
  ASSERT_TRUE(section.has_value()) << "README.md lacks the config reference markers";
  EXPECT_EQ(*section, ConfigReferenceMarkdown())
      << "README.md's config reference is stale: run `make config-docs`";
}

TEST(ConfigReferenceTest, OneRowPerKeyWithNoStrayColumnSeparator) {
  const std::string md = ConfigReferenceMarkdown();
  size_t keys = 0;
  for (const auto& t : ModelConfigReference()) {
    keys += t.keys.size();
    for (const auto& k : t.keys) {
      EXPECT_NE(md.find("| `" + k.name + "` | "), std::string::npos) << k.name;
      EXPECT_EQ(k.description.find('|'), std::string::npos) << k.name;
      EXPECT_EQ(k.default_value.find('|'), std::string::npos) << k.name;
    }
  }
  size_t rows = 0;
  std::istringstream lines(md);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("| `", 0) != 0) continue;
    ++rows;
    size_t columns = 0;  // unescaped '|'
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '|' && (i == 0 || line[i - 1] != '\\')) ++columns;
    }
    EXPECT_EQ(columns, 5u) << line;
  }
  EXPECT_EQ(rows, keys);
}

TEST(ConfigReferenceTest, TypesShowTheBoundsAndDefaultsComeFromTheStruct) {
  const std::string md = ConfigReferenceMarkdown();
  EXPECT_NE(md.find("| `workers` | int 1..256 | `1` |"), std::string::npos) << md;
  EXPECT_NE(md.find("| `backend` | `\"r\"` \\| `\"python\"` | required |"), std::string::npos);
  EXPECT_NE(md.find("| `max_requests` | int ≥ 1 | never |"), std::string::npos);
  EXPECT_NE(md.find("| `address_space_mb` | int 16..16777216 \\| `\"unlimited\"` | `16384` |"),
            std::string::npos);
  EXPECT_NE(md.find("| `failure_rate_threshold` | number 1..100 | `50` |"), std::string::npos);
  EXPECT_NE(md.find("| `open_duration_ms` | int 1..86400000 | `30000` |"), std::string::npos);
}

TEST(ConfigReferenceTest, ReplaceWritesBetweenTheMarkersOnly) {
  const std::string readme = "intro\n" + std::string(kConfigReferenceBegin) + "\nold\n" +
                             std::string(kConfigReferenceEnd) + "\noutro\n";
  auto replaced = ReplaceConfigReference(readme, "new\n");
  ASSERT_TRUE(replaced.has_value());
  EXPECT_EQ(*replaced, "intro\n" + std::string(kConfigReferenceBegin) + "\nnew\n" +
                           std::string(kConfigReferenceEnd) + "\noutro\n");
  EXPECT_EQ(ExtractConfigReference(*replaced), "new\n");
  EXPECT_FALSE(ReplaceConfigReference("no markers", "x").has_value());
  EXPECT_FALSE(ExtractConfigReference(std::string(kConfigReferenceEnd) + "\n" +
                                      std::string(kConfigReferenceBegin) + "\n")
                   .has_value());
}

}  // namespace
}  // namespace modelgate
