// ModelMetrics::Statistics: the statistics extension reads the same series
// /metrics exports, so both move together.
#include <gtest/gtest.h>

#include "observability/metrics.h"

namespace modelgate {
namespace {

TEST(MetricsStatisticsTest, CountsComeFromTheRecordedSeries) {
  Metrics metrics;
  ModelMetrics& m = metrics.ForModel("m", "1");
  const ModelVersionStats zero = m.Statistics();
  EXPECT_EQ(zero.success.count, 0u);
  EXPECT_EQ(zero.last_inference_ms, 0u);

  m.RecordBatch(2);  // one execution serving two requests
  m.RecordQueueAndCompute(0.001, 0.5);
  m.RecordQueueAndCompute(0.003, 0.5);
  m.RecordRequest(Protocol::kHttp, StatusCode::kOk, 0.25);
  m.RecordRequest(Protocol::kGrpc, StatusCode::kOk, 0.5);
  m.RecordRequest(Protocol::kHttp, StatusCode::kInvalidArgument, 0.002);

  const ModelVersionStats s = m.Statistics();
  EXPECT_EQ(s.success.count, 2u);
  EXPECT_EQ(s.success.ns, 750000000u);
  EXPECT_EQ(s.fail.count, 1u);
  EXPECT_EQ(s.fail.ns, 2000000u);
  EXPECT_EQ(s.inference_count, 2u);
  EXPECT_EQ(s.execution_count, 1u);
  EXPECT_EQ(s.queue.count, 2u);
  EXPECT_EQ(s.queue.ns, 4000000u);
  EXPECT_EQ(s.compute_infer.count, 2u);
  EXPECT_EQ(s.compute_infer.ns, 1000000000u);
  EXPECT_GT(s.last_inference_ms, 1600000000000u);  // a wall-clock date, not a duration

  // The same requests in the Prometheus text.
  const std::string text = metrics.Serialize({});
  EXPECT_NE(text.find("modelgate_requests_total{code=\"OK\",model=\"m\",protocol=\"grpc\","
                      "version=\"1\"} 1"),
            std::string::npos)
      << text;
}

TEST(MetricsStatisticsTest, ExecutionsAreKeptByBatchSize) {
  Metrics metrics;
  ModelMetrics& m = metrics.ForModel("m", "1");
  m.RecordExecution(4, 0.25);
  m.RecordExecution(1, 0.125);
  m.RecordExecution(4, 0.25);
  const ModelVersionStats s = m.Statistics();
  ASSERT_EQ(s.batches.size(), 2u);
  EXPECT_EQ(s.batches[0].batch_size, 1u);
  EXPECT_EQ(s.batches[0].compute_infer.count, 1u);
  EXPECT_EQ(s.batches[1].batch_size, 4u);
  EXPECT_EQ(s.batches[1].compute_infer.count, 2u);
  EXPECT_EQ(s.batches[1].compute_infer.ns, 500000000u);
}

TEST(MetricsStatisticsTest, VersionsKeepSeparateCounts) {
  Metrics metrics;
  metrics.ForModel("m", "1").RecordRequest(Protocol::kHttp, StatusCode::kOk, 0.1);
  EXPECT_EQ(metrics.ForModel("m", "2").Statistics().success.count, 0u);
  EXPECT_EQ(metrics.ForModel("m", "1").Statistics().success.count, 1u);
}

}  // namespace
}  // namespace modelgate
