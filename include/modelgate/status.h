// Status and StatusOr<T>: the one error type used end to end, from the
// workers to both front ends. Codes are chosen by meaning; the single mapping
// to gRPC codes and HTTP statuses lives in status_map.h.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace modelgate {

enum class StatusCode {
  kOk,
  kInvalidArgument,    // bad input: shape, datatype, missing input, bad JSON
  kNotFound,           // unknown model or version, unknown route
  kTooLarge,           // body or message over the limit
  kResourceExhausted,  // queue full or rate limited: retry later
  kUnavailable,        // not ready, breaker open, worker died: retry later
  kDeadlineExceeded,   // deadline passed, queued or running
  kUnauthenticated,
  kPermissionDenied,
  kInternal,   // model code raised an error, or a bug
  kCancelled,  // the client cancelled or went away
};

class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Seconds a client should wait before retrying; set for 429/503 answers.
  std::optional<int> retry_after_seconds() const { return retry_after_; }
  Status& WithRetryAfter(int seconds) {
    retry_after_ = seconds;
    return *this;
  }

  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::optional<int> retry_after_;
};

inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// Holds either a value or a non-OK Status.
template <typename T>
class StatusOr {
 public:
  StatusOr(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).ok()); }
  StatusOr(T value) : v_(std::move(value)) {}

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

 private:
  std::variant<Status, T> v_;
};

}  // namespace modelgate
