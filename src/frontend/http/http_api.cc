#include "frontend/http/http_api.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "common/retry_after.h"
#include "common/status_map.h"
#include "frontend/http/binary_tensor.h"
#include "frontend/http/content_coding.h"
#include "frontend/http/http_route.h"
#include "frontend/http/offload_pool.h"
#include "frontend/http/request_header_checks.h"
#include "frontend/http/rest_codec.h"
#include "frontend/http/rest_v1_columnar.h"
#include "frontend/triton/triton_messages.h"
#include "modelgate/log_event.h"
#include "modelgate/version.h"
#include "observability/metrics.h"
#include "observability/request_id.h"
#include "spdlog/spdlog.h"

namespace modelgate {

namespace http = boost::beast::http;
using nlohmann::json;

namespace {

constexpr std::string_view kServerVersion = kVersion;

HttpResponse Json(unsigned status, std::string body) {
  HttpResponse res{static_cast<http::status>(status), 11};
  res.set(http::field::server, "modelgate");
  res.set(http::field::content_type, "application/json");
  res.body() = std::move(body);
  return res;
}

HttpResponse Error(const Status& s) {
  HttpResponse res =
      Json(HttpStatusOf(s.code()), json{{"error", BoundedErrorMessage(s.message())}}.dump(
                                       -1, ' ', false, json::error_handler_t::replace));
  if (auto after = s.retry_after_seconds())
    res.set(http::field::retry_after, std::to_string(*after));
  return res;
}

// 401 or 403 with the RFC 6750 challenge; the message never holds the token.
HttpResponse Denied(AuthResult result, AuthScope needed) {
  HttpResponse res = Error(AuthStatus(result, needed, "the Authorization header"));
  std::string challenge = "Bearer realm=\"modelgate\"";
  if (result == AuthResult::kInvalidToken) challenge += ", error=\"invalid_token\"";
  if (result == AuthResult::kInsufficientScope) {
    challenge +=
        ", error=\"insufficient_scope\", scope=\"" + std::string(AuthScopeName(needed)) + "\"";
  }
  res.set(http::field::www_authenticate, challenge);
  return res;
}

using Finish = std::function<void(HttpResponse, StatusCode)>;

// Adds `field` to the response's Vary list (CORS may have put Origin there).
void AddVary(HttpResponse& res, std::string_view field) {
  const auto current = res[http::field::vary];
  if (current.empty()) {
    res.set(http::field::vary, std::string(field));
  } else if (std::string_view(current.data(), current.size()).find(field) ==
             std::string_view::npos) {
    res.set(http::field::vary, std::string(current) + ", " + std::string(field));
  }
}

// Every Accept-Encoding line of the request joined, or nullopt without one.
std::optional<std::string> AcceptEncoding(const HttpRequest& request) {
  auto [begin, end] = request.equal_range(http::field::accept_encoding);
  if (begin == end) return std::nullopt;
  std::string joined;
  for (auto it = begin; it != end; ++it) {
    if (!joined.empty()) joined += ", ";
    joined.append(it->value().data(), it->value().size());
  }
  return joined;
}

bool WorthCompressing(const std::string& body, ContentCoding coding) {
  return coding != ContentCoding::kIdentity && body.size() >= HttpApi::kMinCompressBytes;
}

// Compresses a response not compressed yet (small bodies: inline is cheap;
// large infer responses were compressed where they were encoded). A
// response without a body (a CORS preflight) does not vary by encoding.
void CompressResponse(HttpResponse& res, ContentCoding coding) {
  if (res.body().empty()) return;
  AddVary(res, "Accept-Encoding");
  if (res.count(http::field::content_encoding) || !WorthCompressing(res.body(), coding)) return;
  auto packed = CompressBody(res.body(), coding);
  if (!packed.ok()) return;  // zlib out of memory: the answer goes uncompressed
  res.body() = std::move(packed).value();
  res.set(http::field::content_encoding, std::string(ContentCodingName(coding)));
}

// The answer when the offload pool is saturated.
Status ServerBusy() {
  return Unavailable("the server is busy parsing or encoding other large bodies; retry later")
      .WithRetryAfter(kRetryAfterSeconds);
}

// Roughly how much JSON an infer response becomes: its data bytes, and one
// row per element of the first dimension (V1 rows).
size_t EncodeCost(const InferResponse& r) {
  size_t cost = 0;
  for (const auto& t : r.outputs) {
    cost += t.raw.size();
    for (const auto& s : t.strings) cost += s.size() + 2;
    if (!t.shape.empty() && t.shape[0] > 0) cost += static_cast<size_t>(t.shape[0]);
  }
  return cost;
}

// How an infer answer is written: V2 (JSON, maybe binary outputs), V1 rows
// ("predictions") or V1 columnar ("outputs").
enum class InferForm { kV2, kV1Rows, kV1Columnar };

// An encoded infer answer, compressed with `coding` (identity: as is).
struct EncodedInfer {
  V2ResponseBody body;
  ContentCoding coding = ContentCoding::kIdentity;
};

// Encodes an infer result and compresses it for `coding` (on `offload` when
// large) and answers through `finish`; V2 outputs `binary` selects go as
// binary data after the JSON, with Triton's headers (its
// Inference-Header-Content-Length counts the uncompressed JSON). io thread.
void AnswerInfer(OffloadPool* offload, StatusOr<InferResponse> result, InferForm form,
                 BinaryOutputs binary, ContentCoding coding, ModelMetrics* metrics,
                 const Finish& finish) {
  if (!result.ok()) {
    finish(Error(result.status()), result.status().code());
    return;
  }
  auto encode = [form, coding,
                 binary = std::move(binary)](const InferResponse& r) -> StatusOr<EncodedInfer> {
    StatusOr<V2ResponseBody> encoded = Internal("unreachable");
    if (form == InferForm::kV2) {
      encoded = EncodeV2InferResponse(r, binary);
    } else {
      auto body =
          form == InferForm::kV1Rows ? EncodeV1PredictResponse(r) : EncodeV1ColumnarResponse(r);
      if (!body.ok()) return body.status();
      encoded = V2ResponseBody{std::move(body).value(), std::nullopt};
    }
    if (!encoded.ok()) return encoded.status();
    EncodedInfer out{std::move(encoded).value()};
    if (WorthCompressing(out.body.body, coding)) {
      if (auto packed = CompressBody(out.body.body, coding); packed.ok()) {
        out.body.body = std::move(packed).value();
        out.coding = coding;
      }
    }
    return out;
  };
  auto send = [finish](StatusOr<EncodedInfer> encoded) {
    if (!encoded.ok()) {
      finish(Error(encoded.status()), encoded.status().code());
      return;
    }
    V2ResponseBody& body = encoded->body;
    HttpResponse res = Json(200, std::move(body.body));
    if (body.json_bytes) {
      // What Triton answers: the JSON's length, and a body that is no longer JSON.
      res.set(http::field::content_type, "application/octet-stream");
      res.set(kInferHeaderContentLength, std::to_string(*body.json_bytes));
    }
    if (encoded->coding != ContentCoding::kIdentity) {
      res.set(http::field::content_encoding, std::string(ContentCodingName(encoded->coding)));
    }
    finish(std::move(res), StatusCode::kOk);
  };
  if (offload && EncodeCost(*result) > HttpApi::kOffloadBytes) {
    const bool queued = offload->Submit(
        [encode, response = std::move(result).value()] { return encode(response); }, send);
    if (!queued) {
      if (metrics) metrics->RecordRejected(RejectReason::kServerBusy);
      finish(Error(ServerBusy()), StatusCode::kUnavailable);
    }
    return;
  }
  send(encode(*result));
}

// Levels (declared in the model's code) go in the tensor's parameters as
// one string, a JSON array: V2 parameter values are scalars.
json TensorMeta(const std::vector<TensorSpec>& specs) {
  json a = json::array();
  for (const auto& s : specs) {
    a.push_back({{"name", s.name}, {"datatype", DataTypeName(s.datatype)}, {"shape", s.shape}});
    if (!s.levels.empty()) a.back()["parameters"] = {{"levels", json(s.levels).dump()}};
  }
  return a;
}

}  // namespace

// An infer request between its arrival and the service's answer (io thread only).
struct HttpApi::PendingInfer {
  bool cancelled = false;
  std::shared_ptr<InferHandle> handle;  // set once the request is queued
  void Cancel() {
    cancelled = true;
    if (handle) handle->Cancel();
  }
};

HttpApi::HttpApi(InferenceService& service, const TimeSource& time, Metrics* metrics,
                 bool access_log)
    : service_(service),
      time_(time),
      unknown_metrics_(metrics ? &metrics->Unknown() : nullptr),
      access_log_(access_log) {}

HttpCancel HttpApi::Handle(HttpRequest&& request, HttpRespond respond) {
  const SteadyTime start = time_.Now();
  std::string request_id(request["x-request-id"]);
  Status id_status = ValidateRequestId(request_id, "header x-request-id");
  if (!id_status.ok() || request_id.empty()) request_id = NewRequestId();
  const ContentCoding answer_coding = ChooseResponseCoding(AcceptEncoding(request));

  // Every response gets the request id, compression for Accept-Encoding and,
  // when enabled, one access log line.
  respond = [respond = std::move(respond), request_id, start, time = &time_,
             access_log = access_log_, method = std::string(request.method_string()),
             target = std::string(request.target()), answer_coding](HttpResponse res) {
    // Infer sets the V2 body's id when it has one: header, body and log agree.
    const std::string id =
        res.count("x-request-id") ? std::string(res["x-request-id"]) : request_id;
    res.set("x-request-id", id);
    CompressResponse(res, answer_coding);
    if (access_log) {
      const auto us =
          std::chrono::duration_cast<std::chrono::microseconds>(time->Now() - start).count();
      LogInfo("access", {{"protocol", "http"},
                         {"method", method},
                         {"target", target},
                         {"status", res.result_int()},
                         {"duration_us", us},
                         {"bytes", res.body().size()},
                         {"request_id", id}});
    }
    respond(std::move(res));
  };

  // CORS headers on every answer to an allowed Origin; a preflight (any
  // OPTIONS) is answered here, before routing and authentication.
  if (cors_.enabled()) {
    respond = [respond = std::move(respond), this,
               origin = std::string(request[http::field::origin])](HttpResponse res) {
      cors_.Decorate(origin, res);
      respond(std::move(res));
    };
  }
  if (request.method() == http::verb::options) {
    respond(cors_.Preflight(request));
    return {};
  }
  if (!id_status.ok()) {
    respond(Error(id_status));
    return {};
  }

  const HttpRoute route =
      HttpRoute::Parse(std::string_view(request.target().data(), request.target().size()));
  if (route.kind == HttpRoute::kNotFound) {
    respond(Error(NotFound("no route for " + std::string(request.target()))));
    return {};
  }
  if (const auto scope = route.Scope(); scope && auth_) {
    const auto header = request[http::field::authorization];
    const AuthResult r = auth_->Check(std::string_view(header.data(), header.size()), *scope);
    if (r != AuthResult::kAllowed) {
      respond(Denied(r, *scope));
      return {};
    }
  }
  if (route.kind == HttpRoute::kUnsupported) {
    respond(Error(NotFound("modelgate does not support " + route.unsupported + " (" +
                           std::string(request.target().substr(0, 256)) +
                           "); see the README's list of supported extensions")));
    return {};
  }
  if (request.method() != route.method) {
    HttpResponse res =
        Error(InvalidArgument("method " + std::string(request.method_string()) +
                              " is not allowed on " + std::string(request.target())));
    res.result(http::status::method_not_allowed);
    res.set(http::field::allow, std::string(http::to_string(route.method)));
    respond(std::move(res));
    return {};
  }

  switch (route.kind) {
    case HttpRoute::kLive:
      respond(Json(200, R"({"live":true})"));
      return {};
    case HttpRoute::kReady: {
      const bool ready = service_.ServerReady();
      respond(Json(ready ? 200 : 503, json{{"ready", ready}}.dump()));
      return {};
    }
    case HttpRoute::kServerMetadata:
      respond(Json(200, json{{"name", "modelgate"},
                             {"version", kServerVersion},
                             {"extensions", kServerExtensions}}
                            .dump()));
      return {};
    case HttpRoute::kModelStatistics: {
      auto stats = service_.Statistics(route.model, route.version);
      respond(stats.ok() ? Json(200, ToTritonJson(ToTritonStatistics(*stats)))
                         : Error(stats.status()));
      return {};
    }
    case HttpRoute::kRepositoryIndex: {
      json index = json::array();
      for (const auto& m : service_.Index()) {
        json e = {{"name", m.name},
                  {"version", std::to_string(m.version)},
                  {"state", ModelStateName(m.state)}};
        if (!m.ready && !m.reason.empty()) e["reason"] = m.reason;
        if (!m.fingerprint.empty()) e["fingerprint"] = m.fingerprint;
        index.push_back(std::move(e));
      }
      respond(Json(200, index.dump(-1, ' ', false, json::error_handler_t::replace)));
      return {};
    }
    case HttpRoute::kRepositoryLoad: {
      // Admin only and small: inflated here (bounded by the body limit).
      auto body = InflateBody(request.body(), RequestBodyCoding(request), max_body_bytes_);
      if (!body.ok()) {
        respond(Error(body.status()));
        return {};
      }
      auto config = ParseRepositoryLoadRequest(*body);
      if (!config.ok()) {
        respond(Error(config.status()));
        return {};
      }
      service_.LoadModel(route.model, std::move(config).value(),
                         [respond = std::move(respond)](const Status& s) {
                           respond(s.ok() ? Json(200, "{}") : Error(s));
                         });
      return {};
    }
    case HttpRoute::kRepositoryUnload:
      service_.UnloadModel(route.model, [respond = std::move(respond)](const Status& s) {
        respond(s.ok() ? Json(200, "{}") : Error(s));
      });
      return {};
    default:
      break;
  }

  // x-modelgate-route-key pins an unversioned request to one version of a
  // traffic split; it is only hashed, never logged or echoed.
  const auto route_key = request["x-modelgate-route-key"];
  auto found = service_.Find(route.model, route.version,
                             std::string(route_key.substr(0, kMaxRouteKeyBytes)));
  if (!found.ok()) {
    if ((route.kind == HttpRoute::kInfer || route.kind == HttpRoute::kV1Predict) &&
        unknown_metrics_) {
      unknown_metrics_->RecordRequest(Protocol::kHttp, found.status().code(),
                                      std::chrono::duration<double>(time_.Now() - start).count());
    }
    respond(Error(found.status()));
    return {};
  }
  switch (route.kind) {
    case HttpRoute::kModelMetadata: {
      json versions = json::array();
      for (int64_t v : found->versions) versions.push_back(std::to_string(v));
      const ModelConfig& c = *found->config;
      respond(Json(200, json{{"name", c.name},
                             {"versions", versions},
                             {"platform", "modelgate_" + std::string(BackendName(c.backend))},
                             {"inputs", TensorMeta(c.inputs)},
                             {"outputs", TensorMeta(c.outputs)}}
                            .dump()));
      return {};
    }
    case HttpRoute::kModelConfig:
      respond(Json(200, ToTritonJson(ToTritonConfig(*found->config))));
      return {};
    case HttpRoute::kModelReady:
    case HttpRoute::kV1Status: {
      const bool ready = service_.ModelReady(*found);
      json body = {{"name", route.model}, {"ready", ready}};
      if (route.kind == HttpRoute::kModelReady) body["version"] = std::to_string(found->version);
      if (!ready) body["reason"] = service_.NotReadyReason(*found);
      respond(Json(route.kind == HttpRoute::kV1Status || ready ? 200 : 503,
                   body.dump(-1, ' ', false, json::error_handler_t::replace)));
      return {};
    }
    case HttpRoute::kInfer:
    case HttpRoute::kV1Predict:
      return Infer(*found, route, std::move(request), request_id, std::move(respond),
                   route.kind == HttpRoute::kV1Predict, answer_coding);
    default:
      respond(Error(NotFound("no route for " + std::string(request.target()))));
  }
  return {};
}

HttpCancel HttpApi::Infer(const ModelTarget& found, const HttpRoute& route, HttpRequest&& request,
                          const std::string& request_id, HttpRespond respond, bool v1,
                          ContentCoding answer_coding) {
  const SteadyTime start = time_.Now();
  Finish finish = [respond = std::move(respond), metrics = found.metrics, start, time = &time_](
                      HttpResponse res, StatusCode code) {
    if (metrics) {
      metrics->RecordRequest(Protocol::kHttp, code,
                             std::chrono::duration<double>(time->Now() - start).count());
    }
    respond(std::move(res));
  };
  // io thread only: lets the client withdraw the request while its body is
  // parsed, and then while it is queued or running.
  auto pending = std::make_shared<PendingInfer>();
  // Set by the parse (maybe on the pool) before `submit` runs on the io thread.
  auto columnar = std::make_shared<bool>(false);
  auto submit = [service = &service_, offload = offload_, found, model = route.model,
                 version = route.version, request_id, v1, finish, pending, columnar,
                 answer_coding](StatusOr<InferRequest> parsed) {
    if (pending->cancelled) {
      finish(Error(Status(StatusCode::kCancelled, "the request was cancelled by the client")),
             StatusCode::kCancelled);
      return;
    }
    if (!parsed.ok()) {
      finish(Error(parsed.status()), parsed.status().code());
      return;
    }
    InferRequest req = std::move(parsed).value();
    BinaryOutputs binary = req.binary_outputs;  // read by the encoder, not the core
    req.model = model;
    req.version = version;
    if (req.id.empty()) req.id = request_id;
    // The one id for header, body and access log: the body's when it has one.
    Finish answer = [finish, id = req.id](HttpResponse res, StatusCode code) {
      res.set("x-request-id", id);
      finish(std::move(res), code);
    };
    const InferForm form = !v1         ? InferForm::kV2
                           : *columnar ? InferForm::kV1Columnar
                                       : InferForm::kV1Rows;
    pending->handle = service->Infer(
        found, std::move(req),
        [offload, answer = std::move(answer), form, binary = std::move(binary), answer_coding,
         metrics = found.metrics](StatusOr<InferResponse> result) {
          AnswerInfer(offload, std::move(result), form, binary, answer_coding, metrics, answer);
        });
  };
  // Triton's binary tensor data extension: the header says where the JSON
  // ends (V2 only; checked against the body by the parser).
  std::optional<size_t> json_bytes;
  if (const size_t headers = request.count(kInferHeaderContentLength); headers > 0) {
    Status bad = Status::Ok();
    if (headers > 1) {
      bad = InvalidArgument("header " + std::string(kInferHeaderContentLength) +
                            " is given more than once");
    } else if (v1) {
      bad = InvalidArgument("header " + std::string(kInferHeaderContentLength) +
                            " (binary tensor data) is only supported by the V2 infer endpoint");
    } else {
      const auto value = request[kInferHeaderContentLength];
      auto n = ParseInferHeaderLength(std::string_view(value.data(), value.size()));
      if (n.ok()) json_bytes = *n;
      bad = n.ok() ? Status::Ok() : n.status();
    }
    if (!bad.ok()) {
      finish(Error(bad), bad.code());
      return {};
    }
  }
  // A timeout counts from the request's arrival, also when parsed offloaded.
  // A compressed body is inflated first (Inference-Header-Content-Length
  // counts the inflated body), within the body limit.
  const ContentCoding coding = RequestBodyCoding(request);
  auto parse = [v1, config = found.config, start, json_bytes, coding, columnar,
                limit = max_body_bytes_](const std::string& body) -> StatusOr<InferRequest> {
    auto plain = [&](const std::string& text) {
      return v1 ? ParseV1PredictRequest(text, *config, columnar.get())
                : ParseV2InferRequest(text, start, json_bytes);
    };
    if (coding == ContentCoding::kIdentity) return plain(body);
    auto inflated = InflateBody(body, coding, limit);
    if (!inflated.ok()) return inflated.status();
    return plain(*inflated);
  };
  const bool offload = coding != ContentCoding::kIdentity || request.body().size() > kOffloadBytes;
  if (offload_ && offload) {
    // A large body is parsed off the io thread; the rest continues here.
    const bool queued =
        offload_->Submit([parse, body = std::move(request.body())] { return parse(body); }, submit);
    if (!queued) {
      if (found.metrics) found.metrics->RecordRejected(RejectReason::kServerBusy);
      finish(Error(ServerBusy()), StatusCode::kUnavailable);
      return {};
    }
  } else {
    submit(parse(request.body()));
  }
  return [pending] { pending->Cancel(); };
}

}  // namespace modelgate
