// Process-wide logging on spdlog: text lines or one JSON object per line
// ({"ts","level","msg"} plus every key=value pair of the message as a field).
#pragma once

#include <string>

#include "modelgate/status.h"

namespace modelgate {

// format: "text" | "json"; level: trace|debug|info|warn|error|critical|off.
Status SetupLogging(const std::string& format, const std::string& level);

}  // namespace modelgate
