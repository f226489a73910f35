#include "observability/drift_monitor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "common/half_float.h"
#include "observability/metrics.h"

namespace modelgate {
namespace {

template <class T>
Tensor Numeric(const std::string& name, DataType type, std::vector<int64_t> shape,
               const std::vector<T>& values) {
  Tensor t;
  t.name = name;
  t.datatype = type;
  t.shape = std::move(shape);
  t.raw.resize(values.size() * sizeof(T));
  std::memcpy(t.raw.data(), values.data(), t.raw.size());
  return t;
}

Tensor Strings(const std::string& name, std::vector<std::string> values) {
  Tensor t;
  t.name = name;
  t.datatype = DataType::kBytes;
  t.shape = {static_cast<int64_t>(values.size())};
  t.strings = std::move(values);
  return t;
}

std::shared_ptr<const DriftReference> Reference() {
  auto ref = std::make_shared<DriftReference>();
  DriftEntry color{"color", "color", std::nullopt, true, {}, {0.5, 0.5, 0}, {"blue", "red"}};
  DriftEntry second{"second", "m", 1, false, {0, 10}, {0.25, 0.5, 0.25}, {}};
  DriftEntry x{"x", "x", std::nullopt, false, {0, 10}, {0.25, 0.5, 0.25}, {}};
  ref->entries = {color, second, x};
  return ref;
}

const DriftSeries& Find(const std::vector<DriftSeries>& all, const std::string& input) {
  for (const auto& s : all) {
    if (s.input == input) return s;
  }
  ADD_FAILURE() << "no series " << input;
  return all.front();
}

std::vector<double> Live(const DriftSeries& s) {
  std::vector<double> r;
  for (const auto& b : s.buckets) r.push_back(b.live);
  return r;
}

TEST(DriftMonitorTest, NumericValuesFallIntoLeftClosedBuckets) {
  DriftMonitor m(Reference(), 100);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // -1 -> 0; 0 and 5 -> 1 (0 <= x < 10); 10 and 11 -> 2; NaN skipped.
  m.Observe({Numeric<double>("x", DataType::kFp64, {6}, {-1, 0, 5, 10, 11, nan})});
  const auto all = m.Collect();
  const DriftSeries& x = Find(all, "x");
  EXPECT_EQ(x.values, 5u);
  EXPECT_EQ(Live(x), (std::vector<double>{0.2, 0.4, 0.4}));
  ASSERT_EQ(x.buckets.size(), 3u);
  EXPECT_EQ(x.buckets[0].label, "00");
  EXPECT_EQ(x.buckets[2].label, "02");
  EXPECT_DOUBLE_EQ(x.buckets[1].reference, 0.5);
  const double live[] = {0.2, 0.4, 0.4}, expected[] = {0.25, 0.5, 0.25};
  ASSERT_TRUE(x.psi.has_value());
  EXPECT_DOUBLE_EQ(*x.psi, PopulationStabilityIndex(live, expected));
  // No value of "color" or "m" yet: no PSI.
  EXPECT_FALSE(Find(all, "color").psi.has_value());
  EXPECT_EQ(Find(all, "second").values, 0u);
}

TEST(DriftMonitorTest, EveryNumericDatatypeAndOneColumnOfAMatrix) {
  DriftMonitor m(Reference(), 100);
  // Column 1 of [3, 2]: 20, -5, 3 -> buckets 2, 0, 1; column 0 ignored.
  m.Observe({Numeric<int32_t>("m", DataType::kInt32, {3, 2}, {100, 20, 100, -5, 100, 3})});
  m.Observe({Numeric<float>("x", DataType::kFp32, {2}, {1.5f, 12.f})});
  m.Observe({Numeric<Fp16>("x", DataType::kFp16, {1}, {FromFloat<Fp16>(-2.f)})});
  m.Observe({Numeric<uint8_t>("x", DataType::kBool, {1}, {1})});
  const auto all = m.Collect();
  EXPECT_EQ(Live(Find(all, "second")), (std::vector<double>{1.0 / 3, 1.0 / 3, 1.0 / 3}));
  EXPECT_EQ(Live(Find(all, "x")), (std::vector<double>{0.25, 0.5, 0.25}));
  EXPECT_DOUBLE_EQ(*Find(all, "x").psi, 0);
}

TEST(DriftMonitorTest, UnknownCategoriesCountAsOther) {
  DriftMonitor m(Reference(), 4);
  m.Observe({Strings("color", {"red", "blue", "green", "red", "red"})});  // window of 4
  const auto all = m.Collect();
  const DriftSeries& c = Find(all, "color");
  EXPECT_EQ(c.values, 4u);
  ASSERT_EQ(c.buckets.size(), 3u);
  EXPECT_EQ(c.buckets[0].label, "blue");
  EXPECT_EQ(c.buckets[1].label, "red");
  EXPECT_EQ(c.buckets[2].label, kDriftOtherBucket);
  EXPECT_EQ(Live(c), (std::vector<double>{0.25, 0.5, 0.25}));  // blue, green, red, red
  const double live[] = {0.25, 0.5, 0.25}, expected[] = {0.5, 0.5, 0};
  EXPECT_DOUBLE_EQ(*c.psi, PopulationStabilityIndex(live, expected));
  EXPECT_GT(*c.psi, 0.2);
}

// A tensor longer than the window: only its last `window` values are read
// (and kept), column and strings alike; the result is what a full walk gives.
TEST(DriftMonitorTest, ALongTensorFeedsOnlyItsLastWindowOfValues) {
  DriftMonitor m(Reference(), 4);
  std::vector<double> x(1000, -1.0);  // bucket 0, all pushed out
  x[996] = 5;
  x[997] = 5;
  x[998] = 20;
  x[999] = -3;
  m.Observe({Numeric<double>("x", DataType::kFp64, {1000}, x)});
  // Column 1 of [6, 2]: -1, -1, 5, 5, 20, 20 -> the last 4 are 1, 1, 2, 2.
  m.Observe(
      {Numeric<double>("m", DataType::kFp64, {6, 2}, {0, -1, 0, -1, 0, 5, 0, 5, 0, 20, 0, 20})});
  std::vector<std::string> colors(500, "green");
  colors.back() = "blue";
  m.Observe({Strings("color", colors)});
  const auto all = m.Collect();
  EXPECT_EQ(Live(Find(all, "x")), (std::vector<double>{0.25, 0.5, 0.25}));
  EXPECT_EQ(Live(Find(all, "second")), (std::vector<double>{0, 0.5, 0.5}));
  EXPECT_EQ(Live(Find(all, "color")), (std::vector<double>{0.25, 0, 0.75}));
}

TEST(DriftMonitorTest, MismatchedDatatypesAreSkipped) {
  DriftMonitor m(Reference(), 10);
  m.Observe({Strings("x", {"1"}), Numeric<double>("color", DataType::kFp64, {1}, {1}),
             Numeric<double>("other_input", DataType::kFp64, {1}, {1})});
  for (const auto& s : m.Collect()) EXPECT_EQ(s.values, 0u) << s.input;
}

}  // namespace
}  // namespace modelgate

namespace modelgate {
namespace {

TEST(DriftMetricsTest, SerializeExportsPsiWindowAndBothRatiosOnlyForMonitoredVersions) {
  Metrics metrics;
  PoolSnapshot plain;
  plain.model = "plain";
  plain.version = "1";
  EXPECT_EQ(metrics.Serialize({plain}).find("modelgate_input_drift"), std::string::npos);

  DriftMonitor monitor(Reference(), 10);
  monitor.Observe({Numeric<double>("x", DataType::kFp64, {2}, {5, 5})});
  PoolSnapshot s;
  s.model = "m";
  s.version = "2";
  s.drift = monitor.Collect();
  const std::string text = metrics.Serialize({plain, s});
  EXPECT_NE(text.find("# TYPE modelgate_input_drift_psi gauge"), std::string::npos) << text;
  EXPECT_NE(text.find("modelgate_input_drift_psi{model=\"m\",version=\"2\",input=\"x\"} "),
            std::string::npos)
      << text;
  // No value yet: no PSI for "color", but its window size and ratios.
  EXPECT_EQ(text.find("modelgate_input_drift_psi{model=\"m\",version=\"2\",input=\"color\"}"),
            std::string::npos);
  EXPECT_NE(text.find("modelgate_input_drift_window_values{model=\"m\",version=\"2\",input="
                      "\"color\"} 0\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("modelgate_input_drift_bucket_ratio{model=\"m\",version=\"2\",input=\"x\","
                      "bucket=\"01\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("modelgate_input_drift_reference_ratio{model=\"m\",version=\"2\",input="
                      "\"color\",bucket=\"_other\"} 0\n"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace modelgate
