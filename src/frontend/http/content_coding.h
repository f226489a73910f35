// HTTP content codings (RFC 9110 §8.4, §12.5.3) with zlib: inflating
// request bodies sent with Content-Encoding gzip or deflate, compressing
// responses for a client's Accept-Encoding. What tritonclient's
// request_compression_algorithm / response_compression_algorithm send:
// `gzip` is a gzip file (RFC 1952), `deflate` the zlib format (RFC 1950);
// raw deflate (RFC 1951, which some clients send as `deflate`) is accepted
// too. Inference-Header-Content-Length always counts the uncompressed body.
//
// Limits: inflation stops as soon as the output passes the caller's limit
// (a zip bomb costs at most that much memory, never its inflated size).
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "modelgate/status.h"

namespace modelgate {

enum class ContentCoding { kIdentity, kGzip, kDeflate };

// "identity", "gzip", "deflate".
std::string_view ContentCodingName(ContentCoding coding);

// One coding token (case-insensitive; `x-gzip` is gzip, RFC 9110 §8.4.1.3);
// nullopt for a coding this server does not implement (br, compress, zstd...).
std::optional<ContentCoding> ParseContentCoding(std::string_view token);

// The body `body` encoded with `coding`, inflated. TOO_LARGE naming
// `max_bytes` once the output would pass it; INVALID_ARGUMENT for a corrupt
// or truncated stream, or bytes after its end (gzip members may follow each
// other, RFC 1952 §2.2). Identity returns the body as it is (unchecked).
StatusOr<std::string> InflateBody(std::string_view body, ContentCoding coding, size_t max_bytes);

// `body` compressed with `coding` (gzip or zlib deflate) at a speed-first
// level; INTERNAL only when zlib fails (out of memory): send it uncompressed.
StatusOr<std::string> CompressBody(std::string_view body, ContentCoding coding);

// The coding to answer with for an Accept-Encoding value (all of the
// request's Accept-Encoding lines joined by ", "), or nullopt when the
// request has none: the coding with the highest q-value among gzip and
// deflate (explicit, else `*`'s q-value), gzip on a tie; identity when none
// is acceptable (q=0, or not listed). Identity is also the answer when the
// client refuses it (`identity;q=0`) and names nothing else: RFC 9110 lets
// a server send it rather than 406, and an uncompressed answer is readable.
ContentCoding ChooseResponseCoding(std::optional<std::string_view> accept_encoding);

}  // namespace modelgate
