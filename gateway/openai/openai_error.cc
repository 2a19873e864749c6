#include "gateway/openai/openai_error.h"

#include <nlohmann/json.hpp>

#include "gateway/http_error.h"

namespace botmodels {

HttpResponse OpenAiError(const Status& status, std::string_view param) {
  const int http = HttpStatus(status.code());
  std::string_view type = http >= 500 ? "server_error" : "invalid_request_error";
  std::string_view code = ErrorCodeName(status.code());
  if (http == 401) code = "invalid_api_key";
  if (http == 404) code = "model_not_found";
  if (http == 429) type = code = "rate_limit_exceeded";
  nlohmann::json error = {{"message", status.message()},
                          {"type", type},
                          {"param", param.empty() ? nlohmann::json() : nlohmann::json(param)},
                          {"code", code}};
  HttpResponse response = JsonResponse({{"error", error}}, http);
  AddRetryAfter(status, response);
  return response;
}

}  // namespace botmodels
