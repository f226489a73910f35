#include "observability/drift_monitor.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string_view>
#include <type_traits>

#include "common/half_float.h"

namespace modelgate {

namespace {

size_t BucketCount(const DriftEntry& e) {
  return e.categorical ? e.categories.size() + 1 : e.edges.size() + 1;
}

// "00".."99": sorts as numbers do.
std::string IndexLabel(size_t i) {
  std::string s = std::to_string(i);
  return s.size() < 2 ? "0" + s : s;
}

template <class T>
double ElementAt(const std::string& raw, size_t i) {
  T v;
  std::memcpy(&v, raw.data() + i * sizeof(T), sizeof(T));
  if constexpr (kIsHalfFloat<T>) {
    return ToFloat(v);
  } else {
    return static_cast<double>(v);
  }
}

}  // namespace

DriftMonitor::DriftMonitor(std::shared_ptr<const DriftReference> reference, size_t window)
    : reference_(std::move(reference)) {
  for (const DriftEntry& e : reference_->entries) windows_.emplace_back(BucketCount(e), window);
}

void DriftMonitor::Observe(const std::vector<Tensor>& inputs) {
  MutexLock lock(mu_);
  const auto& entries = reference_->entries;
  for (const Tensor& t : inputs) {
    for (size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].input == t.name) ObserveEntry(i, t);
    }
  }
}

void DriftMonitor::ObserveEntry(size_t entry, const Tensor& t) {
  const DriftEntry& e = reference_->entries[entry];
  DriftWindow& w = windows_[entry];
  if (e.categorical) {
    if (t.datatype != DataType::kBytes) return;
    // Only the last `capacity` values can stay in the window: a huge
    // request costs at most a window's work under the lock.
    const size_t skip = t.strings.size() > w.capacity() ? t.strings.size() - w.capacity() : 0;
    for (auto s_it = t.strings.begin() + skip; s_it != t.strings.end(); ++s_it) {
      const std::string& s = *s_it;
      auto it = std::lower_bound(e.categories.begin(), e.categories.end(), s);
      const bool known = it != e.categories.end() && *it == s;
      w.Add(known ? static_cast<size_t>(it - e.categories.begin()) : e.categories.size());
    }
    return;
  }
  if (t.datatype == DataType::kBytes) return;
  // Which elements: all, or one column of a [rows, width] tensor.
  size_t first = 0, step = 1;
  if (e.column) {
    if (t.shape.size() != 2 || t.shape[1] <= *e.column) return;
    first = static_cast<size_t>(*e.column);
    step = static_cast<size_t>(t.shape[1]);
  }
  VisitDataType(t.datatype, [&](auto type) {
    using T = typename decltype(type)::type;
    if constexpr (!std::is_same_v<T, std::string>) {
      const size_t n = t.raw.size() / sizeof(T);
      if (first >= n) return;
      // As above: only the last `capacity` elements of the column are read.
      const size_t count = (n - first + step - 1) / step;
      const size_t start = first + (count > w.capacity() ? count - w.capacity() : 0) * step;
      for (size_t i = start; i < n; i += step) {
        const double x = ElementAt<T>(t.raw, i);
        if (std::isnan(x)) continue;
        w.Add(static_cast<size_t>(std::upper_bound(e.edges.begin(), e.edges.end(), x) -
                                  e.edges.begin()));
      }
    }
  });
}

std::vector<DriftSeries> DriftMonitor::Collect() const {
  std::vector<DriftSeries> out;
  const auto& entries = reference_->entries;
  out.reserve(entries.size());
  MutexLock lock(mu_);
  for (size_t i = 0; i < entries.size(); ++i) {
    const DriftEntry& e = entries[i];
    const DriftWindow& w = windows_[i];
    DriftSeries s;
    s.input = e.name;
    s.values = w.size();
    s.psi = w.Psi(e.proportions);
    const std::vector<double> live = w.Ratios();
    for (size_t b = 0; b < live.size(); ++b) {
      std::string label = !e.categorical            ? IndexLabel(b)
                          : b < e.categories.size() ? e.categories[b]
                                                    : std::string(kDriftOtherBucket);
      s.buckets.push_back({std::move(label), live[b], e.proportions[b]});
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace modelgate
