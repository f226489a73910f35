// Checker: typed reads with bounds, and only the first error kept.
#include "config/config_checker.h"

#include <gtest/gtest.h>

namespace modelgate {
namespace {

using nlohmann::json;

TEST(ConfigCheckerTest, IntRejectsNonIntegersAndOutOfRangeKeepingTheOutput) {
  int64_t out = 7;
  Checker c("f.json");
  EXPECT_TRUE(c.Int(json(3), "k", 1, 5, &out));
  EXPECT_EQ(out, 3);
  for (const json& bad : {json(0), json(6), json(2.5), json("3"), json(UINT64_MAX)}) {
    Checker fresh("f.json");
    int64_t kept = 7;
    EXPECT_FALSE(fresh.Int(bad, "a.k", 1, 5, &kept)) << bad.dump();
    EXPECT_EQ(kept, 7);
    EXPECT_EQ(fresh.error().message().rfind("f.json: key 'a.k': must be", 0), 0u)
        << fresh.error().message();
  }
  Checker huge("f.json");
  huge.Int(json(UINT64_MAX), "k", 1, 5, &out);
  EXPECT_EQ(huge.error().message(),
            "f.json: key 'k': must be between 1 and 5, got 18446744073709551615");
}

TEST(ConfigCheckerTest, NumberRejectsNaNLikeAndOutOfRangeValues) {
  double out = 0;
  Checker c("f.json");
  EXPECT_TRUE(c.Number(json(1), "k", 0.5, 2, &out));
  EXPECT_EQ(out, 1.0);
  EXPECT_FALSE(c.Number(json(2.5), "k", 0.5, 2, &out));
  EXPECT_EQ(c.error().message(), "f.json: key 'k': must be between 0.5 and 2, got 2.5");
  Checker t("f.json");
  EXPECT_FALSE(t.Number(json(true), "k", 0.5, 2, &out));
  EXPECT_EQ(t.error().message(), "f.json: key 'k': must be a number");
}

TEST(ConfigCheckerTest, FirstFailureIsKept) {
  Checker c("f.json");
  EXPECT_TRUE(c.ok());
  EXPECT_FALSE(c.Fail("a", "first"));
  EXPECT_FALSE(c.Fail("b", "second"));
  EXPECT_FALSE(c.ok());
  EXPECT_EQ(c.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.error().message(), "f.json: key 'a': first");
}

TEST(ConfigCheckerTest, NumbersReadAsWritten) {
  EXPECT_EQ(FormatConfigNumber(1e9), "1000000000");
  EXPECT_EQ(FormatConfigNumber(0.001), "0.001");
  EXPECT_EQ(FormatConfigNumber(12.5), "12.5");
  EXPECT_EQ(FormatConfigNumber(-3), "-3");
  EXPECT_EQ(FormatConfigNumber(1e300), "1e+300");
  EXPECT_EQ(KeyPath("", "k"), "k");
  EXPECT_EQ(KeyPath("limits", "k"), "limits.k");
}

}  // namespace
}  // namespace modelgate
