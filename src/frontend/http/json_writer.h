// Appends JSON text straight into a string, for the hot REST responses:
// building an nlohmann DOM and dumping it cost ~47k instructions per V2
// response under callgrind, most of it allocation.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "modelgate/status.h"
#include "modelgate/tensor.h"

namespace modelgate {

// A JSON string literal for names and ids, quotes included: control
// characters escaped as RFC 8259 requires, and any byte that is not part of
// well-formed UTF-8 replaced by U+FFFD, so the document is always valid.
void AppendJsonString(std::string& out, std::string_view s);

// Writes worker outputs as JSON arrays into `out`: numbers in shortest
// round-trip form (std::to_chars); floats' missing values as the README's
// rule says: NA (missing_value.h) as null, NaN as "NaN", infinities as
// "Infinity" and "-Infinity" (JSON has no number for them); FP16/BF16
// widened to float (exact). A BYTES element that is not valid
// UTF-8 is an error, never replaced: JSON cannot carry those bytes. Stops
// with INTERNAL once `out` grows past `max_bytes`, so an output cannot make
// the I/O thread write without bound. Errors name `model` and the output.
class JsonTensorWriter {
 public:
  JsonTensorWriter(std::string& out, std::string_view model, size_t max_bytes)
      : out_(out), model_(model), max_bytes_(max_bytes) {}

  // Every element of `t`, flat (KServe V2 "data").
  Status Flat(const Tensor& t);
  // Elements [first, first + product(dims)) of `t` nested by `dims` (a V1
  // row); one bare element when dims is empty. Checks the range against the
  // elements `t` holds and dims against kMaxTensorRank first.
  Status Nested(const Tensor& t, int64_t first, const std::vector<int64_t>& dims);

 private:
  Status Element(const Tensor& t, int64_t i);
  Status Nest(const Tensor& t, int64_t& next, const std::vector<int64_t>& dims, size_t level);
  Status TooLarge(const Tensor& t) const;

  std::string& out_;
  std::string_view model_;
  size_t max_bytes_;
};

}  // namespace modelgate
