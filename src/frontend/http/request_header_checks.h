// CheckRequestHeader: what an HTTP/1.1 server must decide from a request's
// header alone, before it reads the body (RFC 9112, RFC 9110):
// - Host: an HTTP/1.1 request needs exactly one (RFC 9112 §3.2) -> 400.
// - Transfer-Encoding: only `chunked` is implemented. A coding list that does
//   not end in chunked leaves the body length unknown (§6.3) -> 400; any
//   other coding before chunked (e.g. `gzip, chunked`) -> 501 (§6.1); a
//   Transfer-Encoding in an HTTP/1.0 request is faulty framing (§6.1) -> 400.
// - Content-Encoding: identity, or one of gzip / deflate (content_coding.h;
//   the body is inflated before it is parsed); any other coding, or more
//   than one compression -> 415 (RFC 9110 §15.5.16).
// - Expect: `100-continue` asks for the interim answer before the body is
//   sent; any other expectation -> 417 (RFC 9110 §10.1.1). HTTP/1.0 requests'
//   expectations are ignored.
// Messages name the header and its value (cut to kMaxQuotedValueBytes).
#pragma once

#include <boost/beast/http/message.hpp>
#include <string>
#include <vector>

#include "frontend/http/content_coding.h"

namespace modelgate {

struct HeaderVerdict {
  unsigned status = 0;  // 0: acceptable; else the status to answer with
  std::string message;
  bool expect_continue = false;  // answer 100 Continue before reading the body
};

inline constexpr size_t kMaxQuotedValueBytes = 128;

HeaderVerdict CheckRequestHeader(const boost::beast::http::request_header<>& header);

// The compression of a request whose header CheckRequestHeader accepted
// (identity when it has none).
ContentCoding RequestBodyCoding(const boost::beast::http::request_header<>& header);

// A GET without a body whose path (the target before any '?') is one of
// `paths`: a health probe or a scrape, served even when every connection
// slot is busy (HttpLimits::probe_paths).
bool IsProbeRequest(const boost::beast::http::request_header<>& header,
                    const std::vector<std::string>& paths);

}  // namespace modelgate
