// Triton's config and statistics messages from modelgate's values, and the
// REST JSON Triton's clients read (numbers, not strings, for 64-bit fields).
#include "frontend/triton/triton_messages.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace modelgate {
namespace {

ModelConfig BatchingConfig() {
  ModelConfig c;
  c.name = "iris";
  c.backend = Backend::kR;
  c.workers = 3;
  c.max_batch_size = 16;
  c.max_queue_delay_us = 2500;
  c.preferred_batch_sizes = {4, 8};
  c.inputs = {{"features", DataType::kFp64, {-1, 4}}, {"tag", DataType::kBytes, {-1}}};
  c.outputs = {{"label", DataType::kInt64, {-1}}};
  c.version_policy.kind = VersionPolicy::Kind::kSpecific;
  c.version_policy.versions = {1, 3};
  return c;
}

TEST(TritonConfigTest, BatchingModelLeavesOutTheBatchDimensionAndDescribesTheBatcher) {
  const inference::ModelConfig t = ToTritonConfig(BatchingConfig());
  EXPECT_EQ(t.name(), "iris");
  EXPECT_EQ(t.backend(), "r");
  EXPECT_EQ(t.platform(), "modelgate_r");
  EXPECT_EQ(t.max_batch_size(), 16);
  ASSERT_EQ(t.input_size(), 2);
  EXPECT_EQ(t.input(0).data_type(), inference::TYPE_FP64);
  ASSERT_EQ(t.input(0).dims_size(), 1);
  EXPECT_EQ(t.input(0).dims(0), 4);
  EXPECT_EQ(t.input(1).data_type(), inference::TYPE_STRING);
  EXPECT_EQ(t.input(1).dims_size(), 0);  // one BYTES element per row
  ASSERT_EQ(t.output_size(), 1);
  EXPECT_EQ(t.output(0).data_type(), inference::TYPE_INT64);
  ASSERT_TRUE(t.has_dynamic_batching());
  EXPECT_EQ(t.dynamic_batching().max_queue_delay_microseconds(), 2500u);
  ASSERT_EQ(t.dynamic_batching().preferred_batch_size_size(), 2);
  EXPECT_EQ(t.dynamic_batching().preferred_batch_size(1), 8);
  ASSERT_EQ(t.instance_group_size(), 1);
  EXPECT_EQ(t.instance_group(0).count(), 3);
  EXPECT_EQ(t.instance_group(0).kind(), inference::ModelInstanceGroup::KIND_CPU);
  ASSERT_TRUE(t.version_policy().has_specific());
  EXPECT_EQ(t.version_policy().specific().versions_size(), 2);
  EXPECT_EQ(t.version_policy().specific().versions(1), 3);
}

TEST(TritonConfigTest, NonBatchingModelKeepsFullShapesWithWildcards) {
  ModelConfig c;
  c.name = "echo";
  c.backend = Backend::kPython;
  c.inputs = {{"x", DataType::kFp32, {-1, 2}}};
  c.version_policy.num_versions = 2;
  const inference::ModelConfig t = ToTritonConfig(c);
  EXPECT_EQ(t.backend(), "python");
  EXPECT_EQ(t.max_batch_size(), 0);
  EXPECT_FALSE(t.has_dynamic_batching());
  ASSERT_EQ(t.input(0).dims_size(), 2);
  EXPECT_EQ(t.input(0).dims(0), -1);
  EXPECT_EQ(t.input(0).dims(1), 2);
  EXPECT_EQ(t.instance_group(0).count(), 1);
  ASSERT_TRUE(t.version_policy().has_latest());
  EXPECT_EQ(t.version_policy().latest().num_versions(), 2u);
}

TEST(TritonConfigTest, EveryDataTypeHasItsTritonType) {
  EXPECT_EQ(ToTritonDataType(DataType::kBool), inference::TYPE_BOOL);
  EXPECT_EQ(ToTritonDataType(DataType::kUint16), inference::TYPE_UINT16);
  EXPECT_EQ(ToTritonDataType(DataType::kInt8), inference::TYPE_INT8);
  EXPECT_EQ(ToTritonDataType(DataType::kFp16), inference::TYPE_FP16);
  EXPECT_EQ(ToTritonDataType(DataType::kBf16), inference::TYPE_BF16);
  EXPECT_EQ(ToTritonDataType(DataType::kBytes), inference::TYPE_STRING);
}

TEST(TritonJsonTest, ConfigJsonHasProtoNamesEnumNamesAndNumericDims) {
  const auto j = nlohmann::json::parse(ToTritonJson(ToTritonConfig(BatchingConfig())));
  EXPECT_EQ(j["max_batch_size"], 16);
  EXPECT_EQ(j["input"][0]["data_type"], "TYPE_FP64");
  EXPECT_EQ(j["input"][0]["dims"], nlohmann::json::array({4}));
  EXPECT_EQ(j["input"][1]["dims"], nlohmann::json::array());
  EXPECT_EQ(j["dynamic_batching"]["max_queue_delay_microseconds"], 2500);
  EXPECT_EQ(j["version_policy"]["specific"]["versions"], nlohmann::json::array({1, 3}));
  EXPECT_EQ(j["instance_group"][0]["count"], 3);
  EXPECT_EQ(j["instance_group"][0]["kind"], "KIND_CPU");
}

TEST(TritonStatisticsTest, CountsAndDurationsKeepTheirValuesAndUnusedOnesAreZero) {
  ModelVersionStats s;
  s.name = "m";
  s.version = 7;
  s.last_inference_ms = 1700000000123;
  s.inference_count = 5;
  s.execution_count = 4;
  s.success = {5, 123456789012};
  s.fail = {2, 300};
  s.queue = {6, 40};
  s.compute_infer = {6, 9000};
  s.batches = {{1, {2, 100}}, {3, {2, 900}}};
  const auto r = ToTritonStatistics({s});
  ASSERT_EQ(r.model_stats_size(), 1);
  const auto& m = r.model_stats(0);
  EXPECT_EQ(m.version(), "7");
  EXPECT_EQ(m.inference_stats().success().ns(), 123456789012u);
  EXPECT_EQ(m.inference_stats().fail().count(), 2u);
  EXPECT_EQ(m.inference_stats().compute_infer().count(), 6u);
  EXPECT_EQ(m.inference_stats().cache_hit().count(), 0u);

  const auto j = nlohmann::json::parse(ToTritonJson(r));
  const auto& js = j["model_stats"][0];
  EXPECT_EQ(js["name"], "m");
  EXPECT_EQ(js["version"], "7");  // a string in Triton's JSON too
  EXPECT_EQ(js["last_inference"], 1700000000123u);
  EXPECT_EQ(js["inference_count"], 5);
  EXPECT_EQ(js["execution_count"], 4);
  EXPECT_EQ(js["inference_stats"]["success"]["ns"], 123456789012u);
  EXPECT_EQ(js["inference_stats"]["queue"]["count"], 6);
  EXPECT_EQ(js["inference_stats"]["cache_miss"]["ns"], 0);
  ASSERT_EQ(js["batch_stats"].size(), 2u);
  EXPECT_EQ(js["batch_stats"][1]["batch_size"], 3);
  EXPECT_EQ(js["batch_stats"][1]["compute_infer"]["count"], 2);
  EXPECT_EQ(js["batch_stats"][1]["compute_infer"]["ns"], 900);
  EXPECT_EQ(js["batch_stats"][1]["compute_input"]["ns"], 0);
}

TEST(TritonStatisticsTest, NoVersionsIsAnEmptyList) {
  const auto j = nlohmann::json::parse(ToTritonJson(ToTritonStatistics({})));
  EXPECT_EQ(j["model_stats"], nlohmann::json::array());
}

}  // namespace
}  // namespace modelgate
