#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"
#include "gateway/http/http_message.h"

namespace botmodels {

// The HTTP status for a protocol error (docs/gateway.md, "Errors"):
// invalid_request 400, unauthenticated 401, permission_denied 403,
// unknown_model 404, overloaded 429, deadline_exceeded 504, internal 500, and
// 503 for a model that cannot serve now (unavailable, load failed, worker
// crashed, out of memory).
int HttpStatus(ErrorCode code);

// Answers `status` FastAPI's way, {"detail": message}, plus "code" (the
// protocol's error name) and `fields` (a route's own failure fields, such as
// success: false, so that callers reading either see the failure). 429 and
// retryable 503s carry Retry-After.
HttpResponse ErrorResponse(const Status& status, nlohmann::json fields = nlohmann::json::object());

// Retry-After on a 429 or a retryable 503.
void AddRetryAfter(const Status& status, HttpResponse& response);

// 422 with FastAPI's validation body: {"detail": [{"loc": ["body", field],
// "msg": message, "type": "value_error"}]}.
HttpResponse ValidationError(const std::string& field, const std::string& message);

// `body` as a JSON response.
HttpResponse JsonResponse(const nlohmann::json& body, int status = 200);

}  // namespace botmodels
