// InferenceService: what the REST and gRPC front ends call to serve models.
// InferenceCore (server/inference_core.h) implements it; front-end unit tests
// use a mock (tests/support/mock_inference_service.h).
//
// Threading: every method may be called from any thread. The set of models
// and versions changes under load/unload/poll; a ModelTarget keeps its
// version's config alive for as long as the caller holds it. Every
// InferCallback and RepositoryDone runs exactly once, on the io thread, never
// from inside the call that took it (except an InferRequest with
// answer_inline, whose answers that need no worker come from inside Infer).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modelgate/inference.h"
#include "modelgate/model_config.h"
#include "modelgate/model_statistics.h"
#include "modelgate/status.h"

namespace modelgate {

// The Prometheus series of one model version (observability/metrics.h),
// resolved once by the service so front ends never look series up by name.
class ModelMetrics;

// A model version a request names, as Find resolved it.
struct ModelTarget {
  const ModelConfig* config = nullptr;  // kept alive by `hold`
  std::shared_ptr<const void> hold;     // the served version's state
  int64_t version = 0;
  std::string fingerprint;          // of the version's files and effective config
  std::vector<int64_t> versions;    // every version of the model, ascending
  ModelMetrics* metrics = nullptr;  // null when metrics are off
};

// A model version's lifecycle state. When several generations of one
// version are live, the greatest state is the one reported (serving before
// loading before draining).
enum class ModelState {
  kUnloaded,     // unloaded by request
  kDraining,     // replaced, finishing its requests
  kLoading,      // starting and warming up, not yet routed to
  kUnavailable,  // routed to but cannot serve (see the reason)
  kReady,
};
inline constexpr std::array<ModelState, 5> kModelStates = {
    ModelState::kReady, ModelState::kLoading, ModelState::kUnavailable, ModelState::kDraining,
    ModelState::kUnloaded};

// The repository index's spelling (Triton's): READY, LOADING, ...
constexpr std::string_view ModelStateName(ModelState state) {
  switch (state) {
    case ModelState::kReady:
      return "READY";
    case ModelState::kLoading:
      return "LOADING";
    case ModelState::kUnavailable:
      return "UNAVAILABLE";
    case ModelState::kDraining:
      return "DRAINING";
    case ModelState::kUnloaded:
      break;
  }
  return "UNLOADED";
}

// One model version in the repository index.
struct ModelStatus {
  std::string name;
  int64_t version = 0;
  bool ready = false;
  ModelState state = ModelState::kUnavailable;
  std::string reason;  // why not ready, if known
  std::string fingerprint;
};

using RepositoryDone = std::function<void(Status)>;

class InferenceService {
 public:
  virtual ~InferenceService() = default;

  // The version `version` names; empty: the model's traffic split picks one
  // (by `route_key` when set: the same key gets the same version while the
  // weights stay), else the highest served version. NOT_FOUND for an unknown
  // model or version, INVALID_ARGUMENT for one that is not a positive
  // integer, UNAVAILABLE for an unloaded model.
  virtual StatusOr<ModelTarget> Find(const std::string& model, const std::string& version,
                                     const std::string& route_key = {}) const = 0;

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
  // Reads the model's directory afresh (`config_json`, when set, replaces its
  // config.json), starts and warms up every new or changed version beside
  // the old ones and switches routing when all are ready; the replaced
  // workers drain and exit. `done` gets OK once switched, or the error (the
  // model's own message) with the previous versions still serving.
  // INVALID_ARGUMENT for a bad config or in control mode none. A load while
  // one of the same model runs shares its outcome.
  virtual void LoadModel(const std::string& model, std::optional<std::string> config_json,
                         RepositoryDone done) = 0;
  // Stops routing to the model (its requests get UNAVAILABLE "unloaded"),
  // drains what its workers were given and reaps them; `done` once reaped.
  // NOT_FOUND for an unknown model.
  virtual void UnloadModel(const std::string& model, RepositoryDone done) = 0;

  // Statistics extension: the cumulative counts of every served version of
  // `model` (every model when empty; only `version` when set), by model and
  // version. NOT_FOUND for an unknown model or version; UNAVAILABLE when the
  // daemon runs without metrics (the counts are the metrics' own).
  virtual StatusOr<std::vector<ModelVersionStats>> Statistics(const std::string& model,
                                                              const std::string& version) const = 0;
};

}  // namespace modelgate
