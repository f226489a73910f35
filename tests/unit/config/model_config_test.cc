// ParseModelConfig: defaults, every key's value reaching its field, the rules
// across keys and the messages users see. Bounds, types and unknown keys of
// every key are covered table-driven in model_config_keys_test.cc.
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

TEST(ModelConfigTest, InterruptGraceDefaultsTo200MsAndIsValidated) {
  auto c = Parse("");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->interrupt_grace_ms, 200);
  c = Parse(R"("interrupt_grace_ms": 50)");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->interrupt_grace_ms, 50);
  c = Parse(R"("interrupt_grace_ms": -1)");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("m/config.json: key 'interrupt_grace_ms'"), std::string::npos)
      << c.status().message();
}

TEST(ModelConfigTest, SearchPathsBelongToTheirBackendAndAreStrings) {
  auto c = Parse(R"("python_path": ["venv/lib/site-packages", "/opt/extra"])");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->python_path, (std::vector<std::string>{"venv/lib/site-packages", "/opt/extra"}));
  EXPECT_TRUE(c->r_libs.empty());

  const std::pair<std::string, std::string> bad[] = {
      {R"("r_libs": ["lib"])",
       "key 'r_libs': is for backend 'r' (this model's backend is "
       "'python': use python_path)"},
      {R"("python_path": "venv")", "key 'python_path': must be an array of directory paths"},
      {R"("python_path": ["a", 3])", "key 'python_path[1]': must be a string"},
      {R"("python_path": [""])", "key 'python_path[0]': must not be empty"},
      {R"("python_path": ["a\nb"])", "key 'python_path[0]': is not a usable path"},
  };
  for (const auto& [extra, message] : bad) {
    c = Parse(extra);
    ASSERT_FALSE(c.ok()) << extra;
    EXPECT_NE(c.status().message().find("m/config.json: " + message), std::string::npos)
        << c.status().message();
  }
  auto r = ParseModelConfig(R"({"backend": "r", "python_path": ["site"]})", "m/config.json", "m");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("key 'python_path': is for backend 'python'"),
            std::string::npos)
      << r.status().message();
  r = ParseModelConfig(R"({"backend": "r", "r_libs": ["lib", "/usr/lib/R/site-library"]})",
                       "m/config.json", "m");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->r_libs, (std::vector<std::string>{"lib", "/usr/lib/R/site-library"}));
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

TEST(ModelConfigTest, MinimalConfigTakesTheDefaults) {
  auto c = Parse("");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->name, "m");
  EXPECT_EQ(c->source_file, "m/config.json");
  EXPECT_EQ(c->backend, Backend::kPython);
  EXPECT_EQ(c->interpreter, "");
  EXPECT_FALSE(c->dataframe);
  EXPECT_TRUE(c->required);
  EXPECT_EQ(c->workers, 1);
  EXPECT_EQ(c->max_queue_size, 64);
  EXPECT_EQ(c->startup_timeout_ms, 60000);
  EXPECT_EQ(c->default_timeout_ms, 60000);
  EXPECT_EQ(c->max_timeout_ms, 600000);
  EXPECT_TRUE(c->outputs.empty());
  EXPECT_TRUE(c->env.empty());
  EXPECT_TRUE(c->circuit_breaker.enabled);
  EXPECT_EQ(c->circuit_breaker.window, CircuitBreakerConfig::Window::kCount);
  EXPECT_EQ(c->circuit_breaker.window_size, 20);
  EXPECT_EQ(c->circuit_breaker.minimum_calls, 10);
  EXPECT_EQ(c->circuit_breaker.failure_rate_threshold, 50);
  EXPECT_EQ(c->circuit_breaker.open_duration, std::chrono::milliseconds(30000));
  EXPECT_EQ(c->circuit_breaker.half_open_calls, 3);
  EXPECT_EQ(c->rate_limit_rps, 0);  // off
  EXPECT_EQ(c->recycle_max_requests, 0);
  EXPECT_EQ(c->recycle_max_rss_mb, 0);
  EXPECT_EQ(c->max_batch_size, 0);  // batching off
  EXPECT_EQ(c->max_queue_delay_us, 0);
  EXPECT_TRUE(c->preferred_batch_sizes.empty());
  ASSERT_EQ(c->inputs.size(), 1u);
  EXPECT_EQ(c->inputs[0].name, "x");
  EXPECT_EQ(c->inputs[0].datatype, DataType::kFp64);
  EXPECT_EQ(c->inputs[0].shape, (std::vector<int64_t>{-1}));
}

// Each key's setter writes its own field: a value unlike the default for all.
TEST(ModelConfigTest, EveryKeyReachesItsField) {
  auto c = ParseModelConfig(R"({
    "backend": "r", "interpreter": "/opt/R/bin/Rscript", "dataframe": true, "required": false,
    "workers": 3, "max_queue_size": 7, "startup_timeout_ms": 1234,
    "inputs": [{"name": "a", "datatype": "INT32", "shape": [-1]},
               {"name": "b", "datatype": "BYTES", "shape": [-1, 1]}],
    "outputs": [{"name": "y", "datatype": "FP32", "shape": [-1, 2]}],
    "env": {"K": "v", "EMPTY": ""},
    "default_timeout_ms": 11, "max_timeout_ms": 22, "deadline_kill_grace_ms": 33,
    "interrupt_grace_ms": 44, "r_libs": ["lib"],
    "circuit_breaker": {"enabled": false, "window": "time", "window_size": 5,
                        "minimum_calls": 6, "failure_rate_threshold": 12.5,
                        "open_duration_ms": 777, "half_open_calls": 8},
    "rate_limit": {"requests_per_second": 2.5, "burst": 9},
    "recycle": {"max_requests": 100, "max_rss_mb": 512},
    "limits": {"address_space_mb": 1024, "cpu_seconds": "unlimited", "open_files": 64,
               "core_mb": "unlimited", "processes": "unlimited"},
    "dynamic_batching": {"max_batch_size": 16, "max_queue_delay_us": 500,
                         "preferred_batch_sizes": [4, 8]}})",
                            "m/config.json", "m");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->backend, Backend::kR);
  EXPECT_EQ(c->interpreter, "/opt/R/bin/Rscript");
  EXPECT_TRUE(c->dataframe);
  EXPECT_FALSE(c->required);
  EXPECT_EQ(c->workers, 3);
  EXPECT_EQ(c->max_queue_size, 7);
  EXPECT_EQ(c->startup_timeout_ms, 1234);
  ASSERT_EQ(c->inputs.size(), 2u);
  EXPECT_EQ(c->inputs[1].name, "b");
  EXPECT_EQ(c->inputs[1].datatype, DataType::kBytes);
  EXPECT_EQ(c->inputs[1].shape, (std::vector<int64_t>{-1, 1}));
  ASSERT_EQ(c->outputs.size(), 1u);
  EXPECT_EQ(c->outputs[0].datatype, DataType::kFp32);
  EXPECT_EQ(c->env, (std::map<std::string, std::string>{{"K", "v"}, {"EMPTY", ""}}));
  EXPECT_EQ(c->default_timeout_ms, 11);
  EXPECT_EQ(c->max_timeout_ms, 22);
  EXPECT_EQ(c->deadline_kill_grace_ms, 33);
  EXPECT_EQ(c->interrupt_grace_ms, 44);
  EXPECT_EQ(c->r_libs, std::vector<std::string>{"lib"});
  EXPECT_FALSE(c->circuit_breaker.enabled);
  EXPECT_EQ(c->circuit_breaker.window, CircuitBreakerConfig::Window::kTime);
  EXPECT_EQ(c->circuit_breaker.window_size, 5);
  EXPECT_EQ(c->circuit_breaker.minimum_calls, 6);
  EXPECT_EQ(c->circuit_breaker.failure_rate_threshold, 12.5);
  EXPECT_EQ(c->circuit_breaker.open_duration, std::chrono::milliseconds(777));
  EXPECT_EQ(c->circuit_breaker.half_open_calls, 8);
  EXPECT_EQ(c->rate_limit_rps, 2.5);
  EXPECT_EQ(c->rate_limit_burst, 9);
  EXPECT_EQ(c->recycle_max_requests, 100);
  EXPECT_EQ(c->recycle_max_rss_mb, 512);
  EXPECT_EQ(c->limits.address_space_bytes, uint64_t{1024} << 20);
  EXPECT_EQ(c->limits.cpu_seconds, ResourceLimits::kUnlimited);
  EXPECT_EQ(c->limits.open_files, 64u);
  EXPECT_EQ(c->limits.core_bytes, ResourceLimits::kUnlimited);
  EXPECT_EQ(c->limits.processes, ResourceLimits::kUnlimited);
  EXPECT_EQ(c->max_batch_size, 16);
  EXPECT_EQ(c->max_queue_delay_us, 500);
  EXPECT_EQ(c->preferred_batch_sizes, (std::vector<int>{4, 8}));
}

TEST(ModelConfigTest, BurstDefaultsToTheRateButAtLeastOne) {
  auto c = Parse(R"("rate_limit": {"requests_per_second": 5})");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->rate_limit_burst, 5);
  c = Parse(R"("rate_limit": {"requests_per_second": 0.5})");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->rate_limit_burst, 1);
}

// The messages users see, whole: file, key path, reason.
TEST(ModelConfigTest, MessagesNameTheFileTheKeyPathAndTheReason) {
  const std::string input = R"("inputs": [{"name": "x", "datatype": "FP64", "shape": [-1]}])";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{", "m/config.json: not valid JSON: "},
      {R"({"workers": 1e400})", "m/config.json: not valid JSON: "},
      {"[]", "m/config.json: must be a JSON object"},
      {"{" + input + "}", "m/config.json: key 'backend': is required (\"r\" or \"python\")"},
      {R"({"backend": "julia", )" + input + "}",
       "m/config.json: key 'backend': must be \"r\" or \"python\", got \"julia\""},
      {R"({"backend": "r", "inputs": []})",
       "m/config.json: key 'inputs': must not be empty (leave it out when the model's code "
       "declares its signature)"},
      {R"({"backend": "r", "inputs": [{"name": "x", "datatype": "FLOAT", "shape": [1]}]})",
       "m/config.json: key 'inputs[0].datatype': 'FLOAT' is not a V2 datatype (BOOL, INT32, "
       "FP64, BYTES, ...)"},
      {R"({"backend": "r", "inputs": [{"name": "x", "datatype": "FP64", "shape": [1]},
                                      {"name": "x", "datatype": "FP64", "shape": [1]}]})",
       "m/config.json: key 'inputs[1].name': duplicate name 'x'"},
      {R"({"backend": "r", "inputs": [{"name": "", "datatype": "FP64", "shape": [1]}]})",
       "m/config.json: key 'inputs[0].name': must not be empty"},
      {R"({"backend": "r", "inputs": [{"name": "x", "datatype": "FP64", "shape": [-2]}]})",
       "m/config.json: key 'inputs[0].shape': dimensions must be integers >= -1 (-1 means any "
       "size)"},
      {R"({"backend": "r", "inputs": [{"name": "x", "datatype": "FP64", "shape": []}]})",
       "m/config.json: key 'inputs[0].shape': must be a non-empty array of integers"},
      {R"({"backend": "r", "inputs": [5]})",
       "m/config.json: key 'inputs[0]': must be an object with name, datatype, shape"},
      {R"({"backend": "r", "outputs": {}, )" + input + "}",
       "m/config.json: key 'outputs': must be an array of {name, datatype, shape}"},
      {R"({"backend": "r", "env": {"A": 1}, )" + input + "}",
       "m/config.json: key 'env.A': must be a string"},
      {R"({"backend": "r", "env": [], )" + input + "}",
       "m/config.json: key 'env': must be an object of strings"},
      {R"({"backend": "r", "workers": 0, )" + input + "}",
       "m/config.json: key 'workers': must be between 1 and 256, got 0"},
      {R"({"backend": "r", "rate_limit": {"requests_per_second": 0}, )" + input + "}",
       "m/config.json: key 'rate_limit.requests_per_second': must be between 0.001 and "
       "1000000000, got 0"},
      {R"({"backend": "r", "dynamic_batching": {"max_queue_delay_us": 5}, )" + input + "}",
       "m/config.json: key 'dynamic_batching.max_batch_size': is required"},
      {R"({"backend": "r", "dynamic_batching": {"max_batch_size": 4,
           "preferred_batch_sizes": [2, 0]}, )" +
           input + "}",
       "m/config.json: key 'dynamic_batching.preferred_batch_sizes': must be an array of "
       "positive integers"},
      {R"({"backend": "r", "limits": {"cpu_seconds": "forever"}, )" + input + "}",
       "m/config.json: key 'limits.cpu_seconds': must be an integer or \"unlimited\""},
      {R"({"backend": "r", "circuit_breaker": {"window": "sliding"}, )" + input + "}",
       "m/config.json: key 'circuit_breaker.window': must be \"count\" or \"time\", got "
       "\"sliding\""},
  };
  for (const auto& [text, message] : cases) {
    auto c = ParseModelConfig(text, "m/config.json", "m");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(c.status().message().substr(0, message.size()), message) << text;
  }
}

TEST(ModelConfigTest, DataFrameModeNeedsOneDimensionalInputs) {
  auto ok = ParseModelConfig(R"({"backend": "r", "dataframe": true, "inputs": [
      {"name": "a", "datatype": "FP64", "shape": [-1]},
      {"name": "b", "datatype": "FP64", "shape": [-1, 1]}]})",
                             "m/config.json", "m");
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  auto bad = ParseModelConfig(R"({"backend": "r", "dataframe": true, "inputs": [
      {"name": "a", "datatype": "FP64", "shape": [-1]},
      {"name": "b", "datatype": "FP64", "shape": [-1, 2]}]})",
                              "m/config.json", "m");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "m/config.json: key 'inputs[1].shape': data-frame mode needs 1-D inputs, got [-1,2]");
}

// nlohmann::json visits keys in sorted order; the first bad one is reported.
TEST(ModelConfigTest, OnlyTheFirstErrorIsReported) {
  auto c = Parse(R"("workers": 0, "max_queue_size": -1)");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "m/config.json: key 'max_queue_size': must be between 0 and 1000000, got -1");
}

}  // namespace
}  // namespace modelgate
