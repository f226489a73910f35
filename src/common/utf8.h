// UTF-8 well-formedness (RFC 3629: no overlong forms, no surrogates, nothing
// above U+10FFFF), for text that must become JSON or a wire message.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace modelgate {

// Length of the well-formed UTF-8 sequence starting at s[0]; 0 if s is empty
// or s[0] does not start one.
size_t Utf8SequenceLength(std::string_view s);

// Offset of the first byte that is not part of a well-formed sequence;
// s.size() when all of `s` is valid UTF-8.
size_t FirstInvalidUtf8(std::string_view s);

inline bool IsValidUtf8(std::string_view s) { return FirstInvalidUtf8(s) == s.size(); }

// An untrusted string (a client's value, a worker's name) made safe to put
// in an error or a log line: well-formed UTF-8 printable text is kept,
// control characters and bytes outside a well-formed sequence become \xNN,
// and after `max_bytes` bytes of `s` the rest is cut ("…").
std::string PrintableCut(std::string_view s, size_t max_bytes);

}  // namespace modelgate
