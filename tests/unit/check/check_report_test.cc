// The check's table and JSON: one line per row, aligned columns, "-" or null
// for what is unknown, and an error's line breaks kept out of the table.
#include "check/check_report.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

namespace modelgate {
namespace {

std::vector<CheckRow> Rows() {
  CheckRow ok;
  ok.model = "iris_species";
  ok.version = "1";
  ok.load_ms = 812;
  ok.examples_passed = ok.examples_total = 2;
  ok.rss_mib = 98.44;
  CheckRow broken;
  broken.model = "m";
  broken.error = "m/config.json: key 'workers': must be an integer";
  CheckRow failed;
  failed.model = "wrong";
  failed.version = "3";
  failed.load_ms = 40;
  failed.examples_total = 1;
  failed.error = "model load failed\nTraceback:\n  line 1";
  return {ok, broken, failed};
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(CheckReportTest, TableHasAHeaderAndOneAlignedLinePerRow) {
  const auto lines = Lines(FormatCheckTable(Rows()));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].rfind("MODEL", 0), 0u);
  EXPECT_EQ(lines[1], "iris_species  1        ok      812      2/2       98.4     -");
  EXPECT_EQ(lines[2],
            "m             -        FAIL    -        0/0       -        "
            "m/config.json: key 'workers': must be an integer");
  EXPECT_EQ(lines[3],
            "wrong         3        FAIL    40       0/1       -        "
            "model load failed | Traceback: |   line 1");
  // The ERROR column starts at the same offset on every line.
  const size_t error_column = lines[0].find("ERROR");
  EXPECT_EQ(lines[1].substr(error_column), "-");
  EXPECT_EQ(lines[2].substr(error_column).rfind("m/config.json", 0), 0u);
}

TEST(CheckReportTest, AnErrorIsCutToItsLimitInTheTable) {
  CheckRow r;
  r.model = "m";
  r.error = std::string(kMaxRowErrorBytes * 2, 'e');
  const auto lines = Lines(FormatCheckTable({r}));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_LT(lines[1].size(), kMaxRowErrorBytes + 100);
}

TEST(CheckReportTest, JsonHoldsEveryRowWithNullForTheUnknown) {
  const auto j = nlohmann::json::parse(FormatCheckJson(Rows()));
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[0]["model"], "iris_species");
  EXPECT_EQ(j[0]["version"], "1");
  EXPECT_EQ(j[0]["ok"], true);
  EXPECT_EQ(j[0]["load_ms"], 812);
  EXPECT_EQ(j[0]["examples_passed"], 2);
  EXPECT_DOUBLE_EQ(j[0]["rss_mib"].get<double>(), 98.44);
  EXPECT_TRUE(j[0]["error"].is_null());
  EXPECT_TRUE(j[1]["version"].is_null());
  EXPECT_TRUE(j[1]["load_ms"].is_null());
  EXPECT_EQ(j[1]["ok"], false);
  EXPECT_EQ(j[2]["error"], "model load failed\nTraceback:\n  line 1");  // whole
  EXPECT_EQ(j[2]["examples_total"], 1);
}

}  // namespace
}  // namespace modelgate
