// Authenticator: decides whether a request's bearer credential grants the
// scope an endpoint needs. Both front ends ask the same one: REST with the
// `Authorization` header, gRPC with the `authorization` metadata, each value
// "Bearer <token>".
//
// Scopes: `infer` (infer, model and server metadata) and `admin` (the
// repository API: index, load, unload). `admin` implies `infer`. Health and
// readiness never ask. With no Authenticator configured every request is let
// through (the daemon binds 127.0.0.1 by default).
//
// Thread-safe: Check() runs concurrently on the io thread and gRPC's threads.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "modelgate/status.h"

namespace modelgate {

enum class AuthScope { kInfer = 0, kAdmin = 1 };

enum class AuthResult {
  kAllowed = 0,
  kMissingToken,       // no credential at all: 401 / UNAUTHENTICATED
  kInvalidToken,       // not "Bearer <token>", or an unknown token: 401 / UNAUTHENTICATED
  kInsufficientScope,  // a valid token without the scope: 403 / PERMISSION_DENIED
};

// Metric label values of the denied results, in AuthResult order from 1.
inline constexpr std::array<std::string_view, 3> kAuthFailureReasons = {
    "missing_token", "invalid_token", "insufficient_scope"};

std::string_view AuthScopeName(AuthScope scope);
// "missing_token", "invalid_token", "insufficient_scope"; "allowed" for kAllowed.
std::string_view AuthResultName(AuthResult result);

class Authenticator {
 public:
  virtual ~Authenticator() = default;

  // `authorization` is the raw header or metadata value (empty when absent).
  // Never logs or keeps the credential.
  virtual AuthResult Check(std::string_view authorization, AuthScope needed) const = 0;
};

// The error a denied request gets: kUnauthenticated or kPermissionDenied with
// a message naming what is missing and where to put it (`where` is e.g. "the
// Authorization header"); never the credential itself. Ok for kAllowed.
Status AuthStatus(AuthResult result, AuthScope needed, std::string_view where);

}  // namespace modelgate
