// CapturedLog: for the life of one test, the process logger writes
// synchronously into a string (JSON format), so a unit test can read the
// records a component wrote. Not thread-safe: single-threaded tests only.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "observability/log_format.h"
#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/spdlog.h"

namespace modelgate::testing {

class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out_);
    sink->set_formatter(MakeLogFormatter(LogFormat::kJson));
    auto logger = std::make_shared<spdlog::logger>("test", sink);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;

  // The records with "msg" `event`, in the order written.
  std::vector<nlohmann::json> Records(const std::string& event) const {
    std::vector<nlohmann::json> records;
    std::istringstream in(out_.str());
    for (std::string line; std::getline(in, line);) {
      auto record = nlohmann::json::parse(line);
      if (record.value("msg", "") == event) records.push_back(std::move(record));
    }
    return records;
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

}  // namespace modelgate::testing
