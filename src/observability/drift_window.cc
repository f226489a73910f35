#include "observability/drift_window.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace modelgate {

double PopulationStabilityIndex(std::span<const double> actual, std::span<const double> expected) {
  assert(actual.size() == expected.size());
  double psi = 0;
  for (size_t i = 0; i < actual.size() && i < expected.size(); ++i) {
    const double a = std::max(actual[i], kPsiEpsilon);
    const double e = std::max(expected[i], kPsiEpsilon);
    psi += (a - e) * std::log(a / e);
  }
  return psi;
}

DriftWindow::DriftWindow(size_t buckets, size_t capacity)
    : ring_(std::max<size_t>(capacity, 1)), counts_(buckets) {
  assert(buckets >= 1 && buckets <= 256);
}

void DriftWindow::Add(size_t bucket) {
  assert(bucket < counts_.size());
  if (size_ == ring_.size()) {
    --counts_[ring_[next_]];
  } else {
    ++size_;
  }
  ring_[next_] = static_cast<uint8_t>(bucket);
  ++counts_[bucket];
  next_ = next_ + 1 == ring_.size() ? 0 : next_ + 1;
}

std::vector<double> DriftWindow::Ratios() const {
  std::vector<double> r(counts_.size());
  if (size_ == 0) return r;
  for (size_t i = 0; i < r.size(); ++i) r[i] = static_cast<double>(counts_[i]) / size_;
  return r;
}

std::optional<double> DriftWindow::Psi(std::span<const double> expected) const {
  if (size_ == 0) return std::nullopt;
  return PopulationStabilityIndex(Ratios(), expected);
}

}  // namespace modelgate
