// Appends JSON text straight into a string, for the hot REST responses:
// building an nlohmann DOM and dumping it cost ~47k instructions per V2
// response under callgrind, most of it allocation.
#pragma once

#include <string>
#include <string_view>

#include "modelgate/tensor.h"

namespace modelgate {

// A JSON string literal, quotes included, escaping as RFC 8259 requires.
void AppendJsonString(std::string& out, std::string_view s);

// The flat elements of `t` as a JSON array; numbers in shortest round-trip
// form (std::to_chars), non-finite floats as null (JSON has no NaN).
void AppendJsonArray(std::string& out, const Tensor& t);

}  // namespace modelgate
