// Shapes shared by the R tensor conversions (r_inputs.cc, r_outputs.cc):
// row-major (the wire) versus column-major (R) element order, and shapes in
// messages as the script runtime printed them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#define R_NO_REMAP
#include <Rinternals.h>

namespace modelgate::worker_host {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "tensors travel little-endian and are copied as they are");

// A whole number as R's as.character() prints a double ("1e+05").
std::string FormatNumber(int64_t v);
// n printed as sprintf("%d") prints a whole double.
std::string FormatCount(double n);
// "2,3": a shape as paste(shape, collapse = ",") printed it.
std::string JoinShape(const std::vector<int64_t>& dims);

// Walks a row-major tensor of `dims` in row-major order and says where each
// element sits in R's column-major order, in O(rank) memory (an input may be
// as large as a frame: an index per element would cost 8 bytes each).
class ColumnMajorWalk {
 public:
  explicit ColumnMajorWalk(const std::vector<int64_t>& dims);
  // The column-major index of the current element; then moves to the next.
  R_xlen_t Next();

 private:
  std::vector<int64_t> dims_;
  std::vector<R_xlen_t> stride_;  // column-major strides
  std::vector<int64_t> at_;
  R_xlen_t col_ = 0;
};

// Calls visit(j, i) for each element of a row-major tensor of `dims` holding
// n elements, in row-major order: j its row-major position, i its R
// (column-major) index. Stops at the first visit that returns false and
// returns false then; true after the last element.
template <typename Visit>
bool VisitRowMajor(const std::vector<int64_t>& dims, R_xlen_t n, Visit visit) {
  if (dims.size() <= 1) {
    for (R_xlen_t j = 0; j < n; ++j)
      if (!visit(j, j)) return false;
    return true;
  }
  ColumnMajorWalk walk(dims);
  for (R_xlen_t j = 0; j < n; ++j)
    if (!visit(j, walk.Next())) return false;
  return true;
}

}  // namespace modelgate::worker_host
