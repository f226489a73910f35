// The flat byte layout of a structured record between the thread that logs
// (EncodeLogRecord, via Log()) and the logging thread that renders it
// (DecodeLogRecord, in the formatter). In-process only: native byte order.
//
//   record := u8 event_len, event bytes, field*
//   field  := u8 type, u8 key_len, key bytes, value
//   value  := string: u32 len, bytes | int/uint/double: 8 bytes | bool: 1 byte | null: -
//
// A record reaches the formatter as the spdlog payload of a message whose
// source location is kStructuredRecordTag (compared by address), so text
// from an ordinary spdlog call can never be mistaken for a record.
#pragma once

#include <string_view>

#include "modelgate/log_event.h"
#include "spdlog/common.h"

namespace modelgate {

extern const char kStructuredRecordTag[];

// The "…" that ends a string value cut at kMaxLogValueBytes.
inline constexpr std::string_view kLogCutMarker = "\xE2\x80\xA6";

// `s` cut to at most kMaxLogValueBytes (never inside a UTF-8 sequence);
// *cut tells whether kLogCutMarker must follow it.
std::string_view CutLogValue(std::string_view s, bool* cut);

void EncodeLogRecord(LogEvent event, LogFields fields, spdlog::memory_buf_t& out);

// Receives a decoded record. The views point into the payload.
class LogRecordVisitor {
 public:
  virtual ~LogRecordVisitor() = default;
  virtual void Event(std::string_view event) = 0;
  // `value` for strings views the (possibly cut) bytes; `cut` says the
  // marker belongs after them.
  virtual void Field(std::string_view key, const LogValue& value, bool cut) = 0;
};

// False if the payload is malformed (it never is when it came from
// EncodeLogRecord); the fields before the damage have been visited.
bool DecodeLogRecord(std::string_view payload, LogRecordVisitor& visitor);

}  // namespace modelgate
