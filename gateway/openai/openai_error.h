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

}  // namespace botmodels
