// CorsPolicy: which browser origins may call the REST API
// (--cors-allow-origin), and the headers that say so.
//
// For an allowed Origin every response carries Access-Control-Allow-Origin
// (the origin itself), Access-Control-Expose-Headers and Vary: Origin; a
// preflight (OPTIONS) is answered 204 with the allowed methods and headers and
// a Max-Age. Another origin gets no Access-Control-* header, so the browser
// withholds the answer from its page. No credentials mode: browsers send
// bearer tokens as an ordinary Authorization header.
//
// Immutable after construction; safe to share.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "frontend/http/http_types.h"
#include "modelgate/status.h"

namespace modelgate {

class CorsPolicy {
 public:
  static constexpr std::string_view kAllowMethods = "GET, POST, OPTIONS";
  static constexpr std::string_view kAllowHeaders =
      "Authorization, Content-Type, Content-Encoding, x-request-id, "
      "Inference-Header-Content-Length";
  static constexpr std::string_view kExposeHeaders =
      "x-request-id, Retry-After, Inference-Header-Content-Length";
  static constexpr int kMaxAgeSeconds = 600;
  // Longest Origin value looked at (an RFC 6454 origin is scheme://host:port).
  static constexpr size_t kMaxOriginBytes = 1024;

  // `origins`: validated entries (ValidateCorsOrigin); "*" allows every origin.
  explicit CorsPolicy(std::vector<std::string> origins = {});

  bool enabled() const { return !origins_.empty(); }
  bool Allows(std::string_view origin) const;
  // Adds the CORS headers to `res` when `origin` (the request's Origin
  // header, empty when absent) is allowed; Vary: Origin whenever enabled.
  void Decorate(std::string_view origin, HttpResponse& res) const;
  // The answer to an OPTIONS request: 204 with Allow, plus the preflight
  // headers when its Origin is allowed. Never needs authentication.
  HttpResponse Preflight(const HttpRequest& req) const;

 private:
  std::vector<std::string> origins_;
  bool any_ = false;
};

// "*" or scheme://host[:port] with scheme http or https, no path, no
// trailing slash. The error names the value and the rule.
Status ValidateCorsOrigin(std::string_view origin);

}  // namespace modelgate
