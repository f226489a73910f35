#include "frontend/http/request_header_checks.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <string_view>
#include <vector>

#include "frontend/http/content_coding.h"

namespace modelgate {

namespace http = boost::beast::http;

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Every comma-separated element of every line of the field, parameters
// (";q=...") dropped, empty elements skipped (RFC 9110 §5.6.1).
std::vector<std::string_view> Elements(const http::request_header<>& h, http::field f) {
  std::vector<std::string_view> out;
  auto [begin, end] = h.equal_range(f);
  for (auto it = begin; it != end; ++it) {
    std::string_view v(it->value().data(), it->value().size());
    while (!v.empty()) {
      const size_t comma = v.find(',');
      std::string_view e = v.substr(0, comma);
      e = Trim(e.substr(0, e.find(';')));
      if (!e.empty()) out.push_back(e);
      v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
    }
  }
  return out;
}

std::string Joined(const http::request_header<>& h, http::field f) {
  std::string out;
  auto [begin, end] = h.equal_range(f);
  for (auto it = begin; it != end; ++it) {
    if (!out.empty()) out += ", ";
    out.append(it->value().data(), it->value().size());
  }
  if (out.size() > kMaxQuotedValueBytes) {
    out.resize(kMaxQuotedValueBytes);
    out += "...";
  }
  return "'" + out + "'";
}

bool Is(std::string_view a, std::string_view b) {
  return boost::beast::iequals(boost::beast::string_view(a.data(), a.size()),
                               boost::beast::string_view(b.data(), b.size()));
}

HeaderVerdict Refuse(unsigned status, std::string message) {
  return HeaderVerdict{status, std::move(message), false};
}

}  // namespace

HeaderVerdict CheckRequestHeader(const http::request_header<>& h) {
  const bool http11 = h.version() >= 11;
  const size_t hosts = h.count(http::field::host);
  if (http11 && hosts == 0) {
    return Refuse(400, "an HTTP/1.1 request must carry a Host header (RFC 9112 section 3.2)");
  }
  if (hosts > 1) return Refuse(400, "the request has more than one Host header");

  if (h.count(http::field::transfer_encoding) > 0) {
    const auto codings = Elements(h, http::field::transfer_encoding);
    const std::string value = Joined(h, http::field::transfer_encoding);
    if (!http11) {
      return Refuse(400, "Transfer-Encoding is not allowed in an HTTP/1.0 request");
    }
    if (codings.empty() || !Is(codings.back(), "chunked")) {
      return Refuse(400, "Transfer-Encoding " + value +
                             " does not end in 'chunked', so the body length is unknown "
                             "(RFC 9112 section 6.3)");
    }
    if (codings.size() > 1) {
      return Refuse(501, "Transfer-Encoding " + value +
                             " is not supported: the only transfer coding accepted is "
                             "'chunked'; send the body uncompressed (compression is a "
                             "Content-Encoding, not a transfer coding)");
    }
  }

  size_t compressions = 0;
  for (std::string_view coding : Elements(h, http::field::content_encoding)) {
    const auto known = ParseContentCoding(coding);
    if (!known) {
      return Refuse(415, "Content-Encoding " + Joined(h, http::field::content_encoding) +
                             " is not supported: send the request body uncompressed, or "
                             "compressed with gzip or deflate");
    }
    if (*known != ContentCoding::kIdentity && ++compressions > 1) {
      return Refuse(415, "Content-Encoding " + Joined(h, http::field::content_encoding) +
                             " applies more than one coding; at most one (gzip or deflate) is "
                             "supported");
    }
  }

  HeaderVerdict ok;
  if (http11 && h.count(http::field::expect) > 0) {
    for (std::string_view e : Elements(h, http::field::expect)) {
      if (!Is(e, "100-continue")) {
        return Refuse(417, "Expect " + Joined(h, http::field::expect) +
                               " is not supported: the only expectation understood is "
                               "'100-continue'");
      }
    }
    ok.expect_continue = true;
  }
  return ok;
}

ContentCoding RequestBodyCoding(const http::request_header<>& h) {
  for (std::string_view coding : Elements(h, http::field::content_encoding)) {
    const auto known = ParseContentCoding(coding);
    if (known && *known != ContentCoding::kIdentity) return *known;
  }
  return ContentCoding::kIdentity;
}

bool IsProbeRequest(const http::request_header<>& h, const std::vector<std::string>& paths) {
  if (h.method() != http::verb::get || h.count(http::field::transfer_encoding) > 0) return false;
  if (h.count(http::field::content_length) > 0 && h[http::field::content_length] != "0") {
    return false;
  }
  std::string_view target(h.target().data(), h.target().size());
  target = target.substr(0, target.find('?'));
  for (const auto& p : paths) {
    if (target == p) return true;
  }
  return false;
}

}  // namespace modelgate
