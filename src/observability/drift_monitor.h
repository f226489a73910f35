// DriftMonitor: one model version's input drift. Holds a DriftWindow per
// entry of the version's DriftReference, fed with the inputs of requests the
// core accepted (InferenceCore::Infer, on the front end's thread, after
// validation and the in-flight limit), and read at scrape time into
// DriftSeries for modelgate_input_drift_* (metrics.h).
//
// Values: every element of the entry's input, or of its column for a 2-D
// input; NaN (and R's NA) is skipped. Numeric values fall into the
// reference's buckets; a BYTES value is its category, or "other". A tensor
// whose datatype does not fit its entry (numeric vs BYTES) is skipped.
//
// Threading: Observe and Collect may be called from any thread; one mutex
// per monitor (one per model version). Observe allocates nothing.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/mutex.h"
#include "modelgate/drift_reference.h"
#include "modelgate/tensor.h"
#include "observability/drift_window.h"

namespace modelgate {

// The `bucket` label of a categorical entry's "other" bucket (a reference
// cannot name a category so).
inline constexpr std::string_view kDriftOtherBucket = "_other";

// One monitored input at scrape time.
struct DriftSeries {
  std::string input;  // the entry's name
  size_t values = 0;  // in the window
  std::optional<double> psi;
  struct Bucket {
    std::string label;  // numeric: "00".."99" (index); categorical: the category or "_other"
    double live = 0;
    double reference = 0;
  };
  std::vector<Bucket> buckets;
};

class DriftMonitor {
 public:
  // `window`: values kept per entry (config drift.window).
  DriftMonitor(std::shared_ptr<const DriftReference> reference, size_t window);

  void Observe(const std::vector<Tensor>& inputs) EXCLUDES(mu_);
  std::vector<DriftSeries> Collect() const EXCLUDES(mu_);

 private:
  void ObserveEntry(size_t entry, const Tensor& t) REQUIRES(mu_);

  std::shared_ptr<const DriftReference> reference_;
  mutable Mutex mu_;
  std::vector<DriftWindow> windows_ GUARDED_BY(mu_);  // per entry
};

}  // namespace modelgate
