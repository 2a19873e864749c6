#pragma once

#include <string_view>

#include "common/status.h"
#include "gateway/http/http_message.h"

namespace botmodels {

// `status` in OpenAI's error shape, {"error": {"message", "type", "param",
// "code"}}, with the HTTP status http_error.h gives it: 400
// invalid_request_error, 401 invalid_api_key, 404 model_not_found, 429
// rate_limit_exceeded (with Retry-After), 5xx server_error. `param`: the
// request field at fault, if one is.
HttpResponse OpenAiError(const Status& status, std::string_view param = {});

// A refusal of the HTTP layer's (404 for a path, 405, 413...) in the same
// shape: type invalid_request_error (server_error for 5xx), `code` as given,
// null when empty.
HttpResponse OpenAiRefusal(int http, const std::string& message, std::string_view code = {});

}  // namespace botmodels
