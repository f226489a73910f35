// HttpApi: the REST routes (KServe V2, the V2 repository extension, V1
// :predict, http_route.h) on top of an InferenceService. Errors are {"error": "..."} with the
// status from status_map.h; every response carries x-request-id. V2 infer also
// speaks Triton's binary tensor data extension (binary_tensor.h): the request
// header Inference-Header-Content-Length, and binary outputs answered as
// application/octet-stream with that header.
//
// Compression (content_coding.h): a POST body with Content-Encoding gzip or
// deflate is inflated before it is parsed, and its inflated size obeys the
// same limit as a plain body (413 naming it). Responses of at least
// kMinCompressBytes are compressed for the request's Accept-Encoding;
// every response says Vary: Accept-Encoding.
//
// Request id: the V2 body's "id" when given, else the x-request-id header,
// else a generated one; the same id goes to the x-request-id response
// header, the response body, the access log and the core's log lines.
#pragma once

#include <string>

#include "common/limits.h"
#include "frontend/http/content_coding.h"
#include "frontend/http/cors.h"
#include "frontend/http/http_types.h"
#include "modelgate/authenticator.h"
#include "modelgate/inference_service.h"
#include "modelgate/time_source.h"

namespace modelgate {

class Metrics;
class OffloadPool;
struct HttpRoute;

class HttpApi {
 public:
  // `time` (thread-safe Now()) dates deadlines and latencies; it outlives this.
  HttpApi(InferenceService& service, const TimeSource& time, Metrics* metrics, bool access_log);

  // Before serving: bearer tokens (not owned; null: no authentication). Health
  // and readiness stay open; infer and metadata need `infer`, the repository
  // API `admin`.
  void set_authenticator(const Authenticator* auth) { auth_ = auth; }
  // Before serving: browser origins allowed by CORS.
  void set_cors(CorsPolicy cors) { cors_ = std::move(cors); }

  // Runs on the io thread; `respond` is called exactly once. Returns how to
  // withdraw an infer request whose client disconnects (empty otherwise).
  HttpCancel Handle(HttpRequest&& request, HttpRespond respond);

  // Infer bodies and responses larger than kOffloadBytes are parsed and
  // encoded on `pool` instead of the io thread (null: always inline). When
  // the pool is saturated the request gets 503. `pool` outlives this.
  void set_offload(OffloadPool* pool) { offload_ = pool; }
  static constexpr size_t kOffloadBytes = 64 * 1024;
  // Every compressed infer body is inflated and parsed on the pool: a few KiB
  // can inflate to megabytes (deflate's ratio is up to ~1032:1), whose parse
  // would stall the io thread.
  // Smaller responses are sent uncompressed: the saving would not pay.
  static constexpr size_t kMinCompressBytes = 1024;

  // Before serving: the limit a request body obeys once inflated (the
  // server's HttpLimits::max_body_bytes).
  void set_max_body_bytes(size_t bytes) { max_body_bytes_ = bytes; }

 private:
  struct PendingInfer;
  HttpCancel Infer(const ModelTarget& found, const HttpRoute& route, HttpRequest&& request,
                   const std::string& request_id, HttpRespond respond, bool v1,
                   ContentCoding answer_coding);

  const Authenticator* auth_ = nullptr;
  CorsPolicy cors_;
  InferenceService& service_;
  const TimeSource& time_;
  ModelMetrics* unknown_metrics_;  // requests naming no known model
  bool access_log_;
  OffloadPool* offload_ = nullptr;
  size_t max_body_bytes_ = kDefaultMaxRequestBytes;
};

}  // namespace modelgate
