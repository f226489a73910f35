// HttpRoute: which REST endpoint a request target names (`/` is liveness
// as for KServe's V1 client, KServe V2, the V2
// repository extension, V1 status and :predict), the method it takes, the
// scope a bearer token needs for it, and the model and version in its path.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "frontend/http/http_types.h"
#include "modelgate/authenticator.h"

namespace modelgate {

struct HttpRoute {
  enum Kind {
    kNotFound,
    kLive,
    kReady,
    kServerMetadata,
    kModelMetadata,
    kModelReady,
    kInfer,
    kRepositoryIndex,
    kRepositoryLoad,
    kRepositoryUnload,
    kV1Status,
    kV1Predict,
    kModelConfig,      // Triton's model configuration extension
    kModelStatistics,  // Triton's statistics extension; model empty: every model
    kUnsupported,      // a Triton extension modelgate leaves out; any method
  } kind = kNotFound;
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string model;
  std::string version;      // empty: the model's highest
  std::string unsupported;  // kUnsupported: what is not supported, for the message

  // The scope a route needs; none for health and readiness (probes).
  std::optional<AuthScope> Scope() const;

  // The route of a request target; its query string is ignored.
  static HttpRoute Parse(std::string_view target);
};

}  // namespace modelgate
