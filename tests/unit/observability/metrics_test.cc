// Metrics::Serialize: the pool-state gauges read at scrape time.
#include "observability/metrics.h"

#include <gtest/gtest.h>

namespace modelgate {
namespace {

PoolSnapshot Pool(std::vector<int> pids, int slots) {
  PoolSnapshot s;
  s.model = "m";
  s.version = "1";
  s.worker_pids = std::move(pids);
  s.worker_slots = slots;
  return s;
}

std::string PidLine(const std::string& slot, int pid) {
  return "modelgate_worker_pid{model=\"m\",version=\"1\",slot=\"" + slot + "\"} " +
         std::to_string(pid) + "\n";
}

TEST(MetricsTest, WorkerPidHasOneSeriesPerSlotAndZeroWhereNoWorkerLives) {
  Metrics metrics;
  const std::string text = metrics.Serialize({Pool({4242}, 3)});
  EXPECT_NE(text.find("# TYPE modelgate_worker_pid gauge"), std::string::npos) << text;
  EXPECT_NE(text.find(PidLine("0", 4242)), std::string::npos) << text;
  EXPECT_NE(text.find(PidLine("1", 0)), std::string::npos) << text;
  EXPECT_NE(text.find(PidLine("2", 0)), std::string::npos) << text;
  EXPECT_EQ(text.find("slot=\"3\""), std::string::npos) << text;
}

TEST(MetricsTest, WorkerPidKeepsLiveWorkersBeyondTheConfiguredSlots) {
  Metrics metrics;
  const std::string text = metrics.Serialize({Pool({10, 11}, 1)});
  EXPECT_NE(text.find(PidLine("0", 10)), std::string::npos) << text;
  EXPECT_NE(text.find(PidLine("1", 11)), std::string::npos) << text;
}

TEST(MetricsTest, NoPoolsMeansNoWorkerPidSeries) {
  Metrics metrics;
  EXPECT_EQ(metrics.Serialize({}).find("modelgate_worker_pid{"), std::string::npos);
}

}  // namespace
}  // namespace modelgate
