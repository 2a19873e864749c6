#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace botmodels {

// The protocol's error codes (docs/protocol.md, "Errors"). kOk is never sent.
enum class ErrorCode {
  kOk,
  kInvalidRequest,    // the request is malformed or does not fit the model
  kUnauthenticated,   // missing, wrong, stale or replayed signature
  kPermissionDenied,  // the key's role may not run this operation
  kUnknownModel,      // no model of that name is served
  kModelLoadFailed,   // the model file could not be loaded
  kOverloaded,        // the model's queue is full
  kDeadlineExceeded,  // the request's deadline passed before it was answered
  kWorkerCrashed,     // the worker died while running it
  kOutOfMemory,       // the request needs more memory than the worker may use
  kUnavailable,       // no worker can take it now (starting, stopping)
  kInternal,          // a bug or an unexpected model failure; the last
};

// Wire name of `code`, e.g. "invalid_request".
std::string_view ErrorCodeName(ErrorCode code);
// Inverse of ErrorCodeName; nullopt for an unknown name.
std::optional<ErrorCode> ParseErrorCode(std::string_view name);
// Whether sending the same request again may succeed.
bool DefaultRetryable(ErrorCode code);

// The result of an operation that can fail: a code and a message for people.
class Status {
 public:
  Status() = default;  // OK
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // Whether the same request, sent again, may succeed: the code's default
  // (DefaultRetryable) unless this error says otherwise.
  bool retryable() const { return retryable_.value_or(DefaultRetryable(code_)); }
  // This error with `retryable` in place of its code's default.
  Status WithRetryable(bool retryable) && {
    retryable_ = retryable;
    return std::move(*this);
  }
  // "code: message", for logs.
  std::string ToString() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
  std::optional<bool> retryable_;  // nullopt: the code's default
};

// Returns from the enclosing function when `expr` (a Status) is not OK.
#define BOTMODELS_RETURN_IF_ERROR(expr)                        \
  do {                                                         \
    if (::botmodels::Status _status = (expr); !_status.ok()) { \
      return _status;                                          \
    }                                                          \
  } while (0)

inline Status InvalidRequest(std::string message) {
  return {ErrorCode::kInvalidRequest, std::move(message)};
}

// Either a value or a failed Status.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : value_(std::move(status)) {}  // NOLINT; status must not be OK

  bool ok() const { return std::holds_alternative<T>(value_); }
  const Status& status() const { return std::get<Status>(value_); }
  T& value() { return std::get<T>(value_); }
  const T& value() const { return std::get<T>(value_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> value_;
};

}  // namespace botmodels
