// InferenceService: what the REST and gRPC front ends call to serve models.
// InferenceCore (server/inference_core.h) implements it; front-end unit tests
// use a mock (tests/support/mock_inference_service.h).
//
// Threading: every method but SetLoaded may be called from any thread (the
// models and their configs are fixed once the service exists). SetLoaded runs
// on the service's io thread. Every InferCallback runs exactly once, on the
// io thread, never from inside Infer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "modelgate/inference.h"
#include "modelgate/model_config.h"
#include "modelgate/status.h"

namespace modelgate {

// The Prometheus series of one model version (observability/metrics.h),
// resolved once by the service so front ends never look series up by name.
class ModelMetrics;

// A model version a request names, as Find resolved it.
struct ModelTarget {
  const ModelConfig* config = nullptr;  // owned by the service, lives as long as it
  int64_t version = 0;
  std::vector<int64_t> versions;    // every version of the model, ascending
  ModelMetrics* metrics = nullptr;  // null when metrics are off
};

// One model version in the repository index.
struct ModelStatus {
  std::string name;
  int64_t version = 0;
  bool ready = false;
  std::string reason;  // why not ready, if known
};

class InferenceService {
 public:
  virtual ~InferenceService() = default;

  // The version `version` names (empty: the highest): NOT_FOUND for an
  // unknown model or version, INVALID_ARGUMENT for one that is not a
  // positive integer.
  virtual StatusOr<ModelTarget> Find(const std::string& model,
                                     const std::string& version) const = 0;

  // Queues `request` for a version Find returned; answers through `done`
  // (validation errors, 429/503 with Retry-After when the service is busy or
  // shutting down, 504 past the deadline, the model's outputs). The handle
  // withdraws the request if the client goes away.
  virtual std::shared_ptr<InferHandle> Infer(const ModelTarget& target, InferRequest request,
                                             InferCallback done) = 0;
  // The same for request.model / request.version, resolved here: an unknown
  // model is answered NOT_FOUND through `done`.
  virtual std::shared_ptr<InferHandle> Infer(InferRequest request, InferCallback done) = 0;

  virtual bool ModelReady(const ModelTarget& target) const = 0;
  // Why ModelReady is false (a load error, or that no worker is ready yet).
  virtual std::string NotReadyReason(const ModelTarget& target) const = 0;
  // Every required model version can serve and the server is not shutting down.
  virtual bool ServerReady() const = 0;

  // Repository extension: every model version with its readiness.
  virtual std::vector<ModelStatus> Index() const = 0;
  virtual std::vector<std::string> ModelNames() const = 0;
  // Unload stops every version's workers (their requests get 503); load
  // starts them again. NOT_FOUND for an unknown model. io thread only.
  virtual Status SetLoaded(const std::string& model, bool loaded) = 0;
};

}  // namespace modelgate
