// UTF-8 well-formedness (RFC 3629: no overlong forms, no surrogates, nothing
// above U+10FFFF), for text that must become JSON or a wire message.
#pragma once

#include <cstddef>
#include <string_view>

namespace modelgate {

// Length of the well-formed UTF-8 sequence starting at s[0]; 0 if s is empty
// or s[0] does not start one.
size_t Utf8SequenceLength(std::string_view s);

// Offset of the first byte that is not part of a well-formed sequence;
// s.size() when all of `s` is valid UTF-8.
size_t FirstInvalidUtf8(std::string_view s);

inline bool IsValidUtf8(std::string_view s) { return FirstInvalidUtf8(s) == s.size(); }

}  // namespace modelgate
