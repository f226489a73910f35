// Renders each log message as one line of text or JSON (--log-format).
//
// Structured records (log_event.h) become `{"ts","level","msg",<fields>}` or
// `<ts> <level> <event> key=value ...`; a message from a plain spdlog call is
// free text: only ever the JSON "msg" string, or one escaped text value —
// never parsed for key=value. Either way the output is exactly one line and
// valid UTF-8: control characters, line/paragraph separators, bidi controls
// and invalid UTF-8 are escaped (JSON: \uXXXX, invalid bytes become \ufffd;
// text: \n \t \r \" \\ \xNN \uXXXX).
//
// A formatter serves one sink; spdlog serializes its calls (logging thread).
#pragma once

#include <memory>
#include <string_view>

#include "spdlog/formatter.h"

namespace modelgate {

enum class LogFormat { kText, kJson };

std::unique_ptr<spdlog::formatter> MakeLogFormatter(LogFormat format);

// `s` as a quoted JSON string.
void AppendJsonString(std::string_view s, spdlog::memory_buf_t& out);

// `s` as a text-format value: bare when it is non-empty printable ASCII
// without space, '=', '"' or '\', else quoted and escaped.
void AppendTextValue(std::string_view s, spdlog::memory_buf_t& out);

}  // namespace modelgate
