#include "modelgate/authenticator.h"

namespace modelgate {

std::string_view AuthScopeName(AuthScope scope) {
  return scope == AuthScope::kAdmin ? "admin" : "infer";
}

std::string_view AuthResultName(AuthResult result) {
  if (result == AuthResult::kAllowed) return "allowed";
  return kAuthFailureReasons[static_cast<size_t>(result) - 1];
}

Status AuthStatus(AuthResult result, AuthScope needed, std::string_view where) {
  const std::string scope(AuthScopeName(needed));
  switch (result) {
    case AuthResult::kAllowed:
      return Status::Ok();
    case AuthResult::kMissingToken:
      return {StatusCode::kUnauthenticated,
              "authentication required: send a bearer token with "
              "scope '" +
                  scope + "' in " + std::string(where) + " ('Bearer <token>')"};
    case AuthResult::kInvalidToken:
      return {StatusCode::kUnauthenticated,
              "invalid credential in " + std::string(where) +
                  ": expected 'Bearer <token>' with a token the daemon knows"};
    case AuthResult::kInsufficientScope:
      return {StatusCode::kPermissionDenied,
              "the bearer token lacks scope '" + scope + "', which this endpoint needs"};
  }
  return {StatusCode::kUnauthenticated, "authentication failed"};
}

}  // namespace modelgate
