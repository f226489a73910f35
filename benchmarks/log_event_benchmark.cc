// Cost of one access-log record, old style (fmt into free text) against
// log_event.h (typed fields into a flat record), split where the work runs:
//  - CallSite_*: on the calling (I/O) thread, up to handing the message to
//    the sink (a null sink here; the real one is the async queue, whose copy
//    of the payload costs the same for both);
//  - Format_*: on the logging thread, one message to one finished line.
// Figures are printed, never asserted.
#include <benchmark/benchmark.h>

#include <string>

#include "modelgate/log_event.h"
#include "observability/log_format.h"
#include "observability/log_record.h"
#include "spdlog/pattern_formatter.h"
#include "spdlog/sinks/null_sink.h"
#include "spdlog/spdlog.h"

namespace {

using modelgate::LogFormat;

const std::string kMethod = "POST";
const std::string kTarget = "/v2/models/iris_species/infer";
const std::string kRequestId = "mg-3f2a9c1e-123456";
constexpr unsigned kStatus = 200;
constexpr int64_t kDurationUs = 1234;
constexpr size_t kBytes = 187;

void UseNullLogger() {
  auto logger =
      std::make_shared<spdlog::logger>("bench", std::make_shared<spdlog::sinks::null_sink_st>());
  logger->set_level(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void BM_CallSite_SpdlogFormat(benchmark::State& state) {
  UseNullLogger();
  for (auto _ : state) {
    spdlog::info(
        "access protocol=http method={} target={} status={} duration_us={} bytes={} "
        "request_id={}",
        kMethod, kTarget, kStatus, kDurationUs, kBytes, kRequestId);
  }
}
BENCHMARK(BM_CallSite_SpdlogFormat);

void BM_CallSite_LogEvent(benchmark::State& state) {
  UseNullLogger();
  for (auto _ : state) {
    modelgate::LogInfo("access", {{"protocol", "http"},
                                  {"method", kMethod},
                                  {"target", kTarget},
                                  {"status", kStatus},
                                  {"duration_us", kDurationUs},
                                  {"bytes", kBytes},
                                  {"request_id", kRequestId}});
  }
}
BENCHMARK(BM_CallSite_LogEvent);

void BM_CallSite_LogEventBelowLevel(benchmark::State& state) {
  UseNullLogger();
  for (auto _ : state) {
    modelgate::LogDebug("access", {{"status", kStatus}, {"request_id", kRequestId}});
  }
}
BENCHMARK(BM_CallSite_LogEventBelowLevel);

// One message as the logging thread receives it.
spdlog::details::log_msg OldMessage(std::string& storage) {
  storage = fmt::format(
      "access protocol=http method={} target={} status={} duration_us={} bytes={} request_id={}",
      kMethod, kTarget, kStatus, kDurationUs, kBytes, kRequestId);
  return spdlog::details::log_msg("bench", spdlog::level::info, storage);
}

spdlog::details::log_msg NewMessage(spdlog::memory_buf_t& storage) {
  modelgate::EncodeLogRecord("access",
                             {{"protocol", "http"},
                              {"method", kMethod},
                              {"target", kTarget},
                              {"status", kStatus},
                              {"duration_us", kDurationUs},
                              {"bytes", kBytes},
                              {"request_id", kRequestId}},
                             storage);
  return spdlog::details::log_msg(
      spdlog::source_loc{modelgate::kStructuredRecordTag, 1, modelgate::kStructuredRecordTag},
      "bench", spdlog::level::info, spdlog::string_view_t(storage.data(), storage.size()));
}

void BM_Format_OldTextPattern(benchmark::State& state) {
  std::string storage;
  const auto msg = OldMessage(storage);
  spdlog::pattern_formatter f("%Y-%m-%dT%H:%M:%S.%fZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  for (auto _ : state) {
    spdlog::memory_buf_t out;
    f.format(msg, out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_Format_OldTextPattern);

void BM_Format_NewText(benchmark::State& state) {
  spdlog::memory_buf_t storage;
  const auto msg = NewMessage(storage);
  auto f = modelgate::MakeLogFormatter(LogFormat::kText);
  for (auto _ : state) {
    spdlog::memory_buf_t out;
    f->format(msg, out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_Format_NewText);

void BM_Format_NewJson(benchmark::State& state) {
  spdlog::memory_buf_t storage;
  const auto msg = NewMessage(storage);
  auto f = modelgate::MakeLogFormatter(LogFormat::kJson);
  for (auto _ : state) {
    spdlog::memory_buf_t out;
    f->format(msg, out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_Format_NewJson);

}  // namespace

BENCHMARK_MAIN();
