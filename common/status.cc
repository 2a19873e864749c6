#include "common/status.h"

#include <array>

namespace botmodels {
namespace {

struct CodeName {
  ErrorCode code;
  std::string_view name;
  bool retryable;
};

constexpr std::array kCodes{
    CodeName{ErrorCode::kOk, "ok", false},
    CodeName{ErrorCode::kInvalidRequest, "invalid_request", false},
    CodeName{ErrorCode::kUnauthenticated, "unauthenticated", false},
    CodeName{ErrorCode::kPermissionDenied, "permission_denied", false},
    CodeName{ErrorCode::kUnknownModel, "unknown_model", false},
    CodeName{ErrorCode::kModelLoadFailed, "model_load_failed", false},
    CodeName{ErrorCode::kOverloaded, "overloaded", true},
    CodeName{ErrorCode::kDeadlineExceeded, "deadline_exceeded", true},
    CodeName{ErrorCode::kWorkerCrashed, "worker_crashed", true},
    CodeName{ErrorCode::kOutOfMemory, "out_of_memory", false},
    CodeName{ErrorCode::kUnavailable, "unavailable", true},
    CodeName{ErrorCode::kInternal, "internal", false},
};

const CodeName& Find(ErrorCode code) {
  for (const auto& c : kCodes) {
    if (c.code == code) return c;
  }
  return kCodes.back();
}

}  // namespace

std::string_view ErrorCodeName(ErrorCode code) { return Find(code).name; }

bool DefaultRetryable(ErrorCode code) { return Find(code).retryable; }

std::optional<ErrorCode> ParseErrorCode(std::string_view name) {
  for (const auto& c : kCodes) {
    if (c.name == name) return c.code;
  }
  return std::nullopt;
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(ErrorCodeName(code_)) + ": " + message_;
}

}  // namespace botmodels
