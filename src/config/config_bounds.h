// Bounds of config.json's numeric keys (model_config_keys.h): each a named
// limit, shown in the README's type column.
#pragma once

#include <cstddef>
#include <cstdint>

namespace modelgate::config_limits {

inline constexpr int64_t kMaxWorkers = 256;
inline constexpr int64_t kMaxQueueSize = 1000000;
inline constexpr int64_t kMinStartupTimeoutMs = 100;
inline constexpr int64_t kMaxStartupTimeoutMs = 3600000;  // 1 h
inline constexpr int64_t kMaxTimeoutMs = 86400000;  // 1 day: request deadlines, breaker open time
inline constexpr int64_t kMaxKillGraceMs = 3600000;
inline constexpr int64_t kMaxBreakerWindow = 100000;  // window_size and minimum_calls
inline constexpr int64_t kMaxHalfOpenCalls = 10000;
inline constexpr double kMinFailureRatePercent = 1;
inline constexpr double kMaxFailureRatePercent = 100;
inline constexpr double kMinRequestsPerSecond = 0.001;
inline constexpr double kMinBurst = 1;
inline constexpr double kMaxRate = 1e9;  // requests_per_second and burst
inline constexpr int64_t kMaxRecycleRssMb = int64_t{1} << 24;
inline constexpr int64_t kMinAddressSpaceMb = 16;
inline constexpr int64_t kMaxMegabytes = int64_t{1} << 24;  // address_space_mb, core_mb: 16 TiB
inline constexpr int64_t kMaxCpuSeconds = INT32_MAX;
inline constexpr int64_t kMinOpenFiles = 16;
inline constexpr int64_t kMaxOpenFiles = int64_t{1} << 20;
inline constexpr int64_t kMinProcesses = 16;
inline constexpr int64_t kMaxProcesses = int64_t{1} << 22;
inline constexpr int64_t kMaxBatchSize = int64_t{1} << 20;  // also bounds preferred_batch_sizes
inline constexpr int64_t kMaxQueueDelayUs = 60000000;       // 1 min
inline constexpr int kMebibyteShift = 20;
// Version numbers: positive integers of at most 18 digits (directory names).
inline constexpr int64_t kMaxVersionNumber = 999999999999999999;
inline constexpr size_t kMaxVersionDigits = 18;
// version_policy: latest.num_versions, and the length of specific.versions.
inline constexpr int64_t kMaxPolicyVersions = 1000;
inline constexpr int64_t kMaxCacheEntries = 10000000;
inline constexpr int64_t kMaxCacheBytes = int64_t{1} << 40;  // response_cache.max_bytes: 1 TiB
inline constexpr int64_t kMaxTrafficWeight = 1000000;        // each version's weight in "traffic"
// "warmup": requests every new worker answers before it counts as ready.
inline constexpr size_t kMaxWarmupRequests = 16;
// "examples": requests `modelgate check` runs, and their tolerance.
inline constexpr size_t kMaxExamples = 64;
inline constexpr double kMaxExampleTolerance = 1;
// "python_path" / "r_libs": entries per key, and bytes per entry (PATH_MAX).
inline constexpr size_t kMaxSearchPaths = 64;
inline constexpr size_t kMaxSearchPathBytes = 4096;
// Live values a drift window keeps per monitored input (2 bytes each).
inline constexpr int64_t kMaxDriftWindow = 1000000;

}  // namespace modelgate::config_limits
