#include "gateway/http_error.h"

namespace botmodels {
namespace {

constexpr char kRetryAfterSeconds[] = "1";  // a full queue or a restarting worker: try again soon

}  // namespace

int HttpStatus(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return 200;
    case ErrorCode::kInvalidRequest:
      return 400;
    case ErrorCode::kUnauthenticated:
      return 401;
    case ErrorCode::kPermissionDenied:
      return 403;
    case ErrorCode::kUnknownModel:
      return 404;
    case ErrorCode::kOverloaded:
      return 429;
    case ErrorCode::kDeadlineExceeded:
      return 504;
    case ErrorCode::kModelLoadFailed:
    case ErrorCode::kWorkerCrashed:
    case ErrorCode::kOutOfMemory:
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

HttpResponse JsonResponse(const nlohmann::json& body, int status) {
  // Invalid UTF-8 from a model (OCR of noise) is replaced, not an exception.
  return HttpResponse::Text(status, "application/json",
                            body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

HttpResponse ErrorResponse(const Status& status, nlohmann::json fields) {
  if (!fields.is_object()) fields = nlohmann::json::object();
  fields["detail"] = status.message();
  fields["code"] = std::string(ErrorCodeName(status.code()));
  HttpResponse response = JsonResponse(fields, HttpStatus(status.code()));
  AddRetryAfter(status, response);
  return response;
}

void AddRetryAfter(const Status& status, HttpResponse& response) {
  const int http = HttpStatus(status.code());
  if (http == 429 || (http == 503 && status.retryable())) {
    response.headers.Set("Retry-After", kRetryAfterSeconds);
  }
}

HttpResponse ValidationError(const std::string& field, const std::string& message) {
  return JsonResponse(
      {{"detail", {{{"loc", {"body", field}}, {"msg", message}, {"type", "value_error"}}}}}, 422);
}

}  // namespace botmodels
