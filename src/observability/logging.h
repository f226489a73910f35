// Process-wide logging on spdlog, to stderr, one line per record: text
// (`<ts> <level> <event> key=value ...`) or JSON (`{"ts","level","msg",...}`
// with each field of a record as a JSON field). Records carrying data are
// written with log_event.h; how values are escaped is in
// src/observability/log_format.h. Call once at start, before any thread logs.
#pragma once

#include <string>

#include "modelgate/status.h"

namespace modelgate {

// format: "text" | "json"; level: trace|debug|info|warn|error|critical|off.
Status SetupLogging(const std::string& format, const std::string& level);

}  // namespace modelgate
