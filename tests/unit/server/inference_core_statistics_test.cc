// InferenceCore::Statistics: one entry per served model version, read from
// that version's metrics; no worker process is started.
#include <gtest/gtest.h>

#include "observability/metrics.h"
#include "server/inference_core.h"

namespace modelgate {
namespace {

namespace asio = boost::asio;

ModelEntry TwoVersions(const std::string& name) {
  ModelEntry e;
  e.config.name = name;
  e.config.backend = Backend::kPython;
  e.config.inputs = {{"x", DataType::kFp32, {-1, 2}}};
  e.config.version_policy.kind = VersionPolicy::Kind::kAll;
  e.versions[1] = VersionEntry{1, "/nonexistent/" + name + "/1", e.config, {}, {}, {}};
  e.versions[3] = VersionEntry{3, "/nonexistent/" + name + "/3", e.config, {}, {}, {}};
  return e;
}

TEST(InferenceCoreStatisticsTest, OneEntryPerServedVersionFromItsOwnSeries) {
  asio::io_context io;
  Metrics metrics;
  InferenceCore core(io, RuntimeSettings{}, {TwoVersions("m"), TwoVersions("n")}, &metrics);
  auto v3 = core.Find("m", "3");
  ASSERT_TRUE(v3.ok());
  ASSERT_NE(v3->metrics, nullptr);
  v3->metrics->RecordRequest(Protocol::kGrpc, StatusCode::kOk, 0.5);

  auto all = core.Statistics("", "");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0].name, "m");
  EXPECT_EQ((*all)[0].version, 1);
  EXPECT_EQ((*all)[0].success.count, 0u);
  EXPECT_EQ((*all)[1].version, 3);
  EXPECT_EQ((*all)[1].success.count, 1u);
  EXPECT_EQ((*all)[1].success.ns, 500000000u);
  EXPECT_EQ((*all)[2].name, "n");

  auto model = core.Statistics("m", "");
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(model->size(), 2u);
  auto one = core.Statistics("m", "3");
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].success.count, 1u);

  EXPECT_EQ(core.Statistics("other", "").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(core.Statistics("m", "2").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(core.Statistics("", "1").status().code(), StatusCode::kInvalidArgument);
}

TEST(InferenceCoreStatisticsTest, WithoutMetricsStatisticsAreUnavailableAndSaySo) {
  asio::io_context io;
  InferenceCore core(io, RuntimeSettings{}, {TwoVersions("m")});
  auto stats = core.Statistics("m", "");
  EXPECT_EQ(stats.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(stats.status().message().find("metrics"), std::string::npos);
}

}  // namespace
}  // namespace modelgate
