#include "frontend/http/http_route.h"

#include <vector>

namespace modelgate {

namespace http = boost::beast::http;

namespace {

std::vector<std::string> SplitPath(std::string_view target) {
  target = target.substr(0, target.find('?'));
  std::vector<std::string> parts;
  size_t start = 0;
  while (start < target.size()) {
    size_t end = target.find('/', start);
    if (end == std::string_view::npos) end = target.size();
    if (end > start) parts.emplace_back(target.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

HttpRoute Set(HttpRoute r, HttpRoute::Kind kind, http::verb method) {
  r.kind = kind;
  r.method = method;
  return r;
}

// Reads {m}[/versions/{v}] starting at p[at] into `r`; returns the index
// after it.
size_t ModelPath(const std::vector<std::string>& p, size_t at, HttpRoute& r) {
  r.model = p[at];
  if (p.size() >= at + 3 && p[at + 1] == "versions") {
    r.version = p[at + 2];
    return at + 3;
  }
  return at + 1;
}

HttpRoute Unsupported(HttpRoute r, std::string what) {
  r.unsupported = std::move(what);
  return Set(r, HttpRoute::kUnsupported, http::verb::unknown);
}

}  // namespace

std::optional<AuthScope> HttpRoute::Scope() const {
  switch (kind) {
    case kNotFound:
    case kLive:
    case kReady:
    case kUnsupported:
      return std::nullopt;
    case kRepositoryIndex:
    case kRepositoryLoad:
    case kRepositoryUnload:
      return AuthScope::kAdmin;
    default:
      return AuthScope::kInfer;
  }
}

HttpRoute HttpRoute::Parse(std::string_view target) {
  const std::vector<std::string> p = SplitPath(target);
  HttpRoute r;
  const size_t n = p.size();
  // KServe's V1 client checks liveness with GET /.
  if (n == 0) return Set(r, kLive, http::verb::get);
  if (n >= 1 && p[0] == "v2") {
    if (n == 1) return Set(r, kServerMetadata, http::verb::get);
    if (n == 3 && p[1] == "health" && p[2] == "live") return Set(r, kLive, http::verb::get);
    if (n == 3 && p[1] == "health" && p[2] == "ready") return Set(r, kReady, http::verb::get);
    if (n == 3 && p[1] == "repository" && p[2] == "index") {
      return Set(r, kRepositoryIndex, http::verb::post);
    }
    if (n == 5 && p[1] == "repository" && p[2] == "models") {
      r.model = p[3];
      if (p[4] == "load") return Set(r, kRepositoryLoad, http::verb::post);
      if (p[4] == "unload") return Set(r, kRepositoryUnload, http::verb::post);
      return HttpRoute{};
    }
    // Triton's extensions modelgate leaves out on purpose.
    if (p[1] == "systemsharedmemory") return Unsupported(r, "system shared memory");
    if (p[1] == "cudasharedmemory") return Unsupported(r, "CUDA shared memory");
    if (p[1] == "logging" && n == 2) return Unsupported(r, "log settings");
    if (p[1] == "trace" && n == 3 && p[2] == "setting") return Unsupported(r, "trace settings");
    if (n == 3 && p[1] == "models" && p[2] == "stats") {
      return Set(r, kModelStatistics, http::verb::get);
    }
    if (n >= 3 && p[1] == "models") {
      const size_t rest = ModelPath(p, 2, r);
      if (rest + 1 == n && p[rest] == "config") return Set(r, kModelConfig, http::verb::get);
      if (rest + 1 == n && p[rest] == "stats") return Set(r, kModelStatistics, http::verb::get);
      if (rest + 2 == n && p[rest] == "trace" && p[rest + 1] == "setting") {
        return Unsupported(r, "trace settings");
      }
      if (rest + 1 == n && (p[rest] == "generate" || p[rest] == "generate_stream")) {
        return Unsupported(r, "the generate extension");
      }
      if (rest == n) return Set(r, kModelMetadata, http::verb::get);
      if (rest + 1 == n && p[rest] == "ready") return Set(r, kModelReady, http::verb::get);
      if (rest + 1 == n && p[rest] == "infer") return Set(r, kInfer, http::verb::post);
    }
    return HttpRoute{};
  }
  if (n >= 3 && p[0] == "v1" && p[1] == "models") {
    // /v1/models/{m}[/versions/{v}][:predict]
    std::vector<std::string> q(p);
    if (q[n - 1].ends_with(":explain")) return Unsupported(r, "explanations (V1 :explain)");
    const bool predict = q[n - 1].size() > 8 && q[n - 1].ends_with(":predict");
    if (predict) q[n - 1].resize(q[n - 1].size() - 8);
    if (ModelPath(q, 2, r) != n) return HttpRoute{};
    return Set(r, predict ? kV1Predict : kV1Status, predict ? http::verb::post : http::verb::get);
  }
  return r;
}

}  // namespace modelgate
