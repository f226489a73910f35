#include "frontend/http/cors.h"

#include <algorithm>

namespace modelgate {

namespace http = boost::beast::http;

namespace {
// Beast (Boost 1.74) takes its own string_view.
boost::beast::string_view Bsv(std::string_view s) { return {s.data(), s.size()}; }
}  // namespace

CorsPolicy::CorsPolicy(std::vector<std::string> origins) : origins_(std::move(origins)) {
  any_ = std::find(origins_.begin(), origins_.end(), "*") != origins_.end();
}

bool CorsPolicy::Allows(std::string_view origin) const {
  if (origin.empty() || origin.size() > kMaxOriginBytes || !enabled()) return false;
  // "null" (sandboxed frames, file:// pages) is never a trustworthy origin.
  if (origin == "null") return false;
  if (any_) {
    return std::all_of(origin.begin(), origin.end(), [](char c) { return c > 0x20 && c < 0x7F; });
  }
  return std::find(origins_.begin(), origins_.end(), origin) != origins_.end();
}

void CorsPolicy::Decorate(std::string_view origin, HttpResponse& res) const {
  if (!enabled()) return;
  res.set(http::field::vary, "Origin");
  if (!Allows(origin)) return;
  res.set(http::field::access_control_allow_origin, Bsv(origin));
  res.set(http::field::access_control_expose_headers, Bsv(kExposeHeaders));
}

HttpResponse CorsPolicy::Preflight(const HttpRequest& req) const {
  HttpResponse res{http::status::no_content, req.version()};
  res.set(http::field::server, "modelgate");
  res.set(http::field::allow, Bsv(kAllowMethods));
  const std::string_view origin(req[http::field::origin].data(), req[http::field::origin].size());
  Decorate(origin, res);
  if (Allows(origin)) {
    res.set(http::field::access_control_allow_methods, Bsv(kAllowMethods));
    res.set(http::field::access_control_allow_headers, Bsv(kAllowHeaders));
    res.set(http::field::access_control_max_age, std::to_string(kMaxAgeSeconds));
  }
  return res;
}

Status ValidateCorsOrigin(std::string_view origin) {
  if (origin == "*") return Status::Ok();
  const std::string rule =
      "an allowed origin is '*' or scheme://host[:port] (http or https, no path)";
  const std::string quoted = "'" + std::string(origin.substr(0, 100)) + "'";
  size_t host_at = 0;
  if (origin.starts_with("http://")) {
    host_at = 7;
  } else if (origin.starts_with("https://")) {
    host_at = 8;
  } else {
    return InvalidArgument("--cors-allow-origin " + quoted + ": " + rule);
  }
  const std::string_view host = origin.substr(host_at);
  if (host.empty() || origin.size() > CorsPolicy::kMaxOriginBytes) {
    return InvalidArgument("--cors-allow-origin " + quoted + ": " + rule);
  }
  for (char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == ':' || c == '[' || c == ']';
    if (!ok) {
      return InvalidArgument("--cors-allow-origin " + quoted + ": " + rule +
                             (c == '/' ? " (remove the path or trailing slash)" : ""));
    }
  }
  return Status::Ok();
}

}  // namespace modelgate
