// DriftWindow: bucket counts over the last `capacity` values of one monitored
// input (a ring of bucket indices, allocated once: adding a value allocates
// nothing), and the population stability index of those counts against a
// reference's proportions. Not thread-safe: DriftMonitor locks around it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace modelgate {

// Proportions below this count as this in PSI (an empty bucket would make
// ln(a/e) infinite): 1e-4, as evidently and most PSI write-ups use.
inline constexpr double kPsiEpsilon = 1e-4;

// PSI = sum_i (a_i - e_i) * ln(a_i / e_i), each of a_i (actual) and e_i
// (expected) raised to kPsiEpsilon first. Both spans have one entry per
// bucket and the same size.
double PopulationStabilityIndex(std::span<const double> actual, std::span<const double> expected);

class DriftWindow {
 public:
  // `buckets` at most 256 (a bucket index is one byte), `capacity` >= 1.
  DriftWindow(size_t buckets, size_t capacity);

  // Counts `bucket` (< buckets) as the newest value; the oldest leaves once
  // the window is full.
  void Add(size_t bucket);

  size_t size() const { return size_; }
  size_t capacity() const { return ring_.size(); }
  std::span<const uint32_t> counts() const { return counts_; }
  // Each bucket's share of the values in the window (all 0 while empty).
  std::vector<double> Ratios() const;
  // PSI of Ratios() against `expected`; nullopt while the window is empty.
  std::optional<double> Psi(std::span<const double> expected) const;

 private:
  std::vector<uint8_t> ring_;
  std::vector<uint32_t> counts_;
  size_t next_ = 0;  // where the next value goes
  size_t size_ = 0;
};

}  // namespace modelgate
