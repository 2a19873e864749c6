#include "gateway/openai/openai_error.h"

#include <nlohmann/json.hpp>

#include "gateway/http_error.h"

namespace botmodels {

namespace {

HttpResponse Shaped(int http, const std::string& message, std::string_view type,
                    std::string_view param, std::string_view code) {
  const auto text_or_null = [](std::string_view text) {
    return text.empty() ? nlohmann::json() : nlohmann::json(text);
  };
  return JsonResponse({{"error",
                        {{"message", message},
                         {"type", type},
                         {"param", text_or_null(param)},
                         {"code", text_or_null(code)}}}},
                      http);
}

}  // namespace

HttpResponse OpenAiError(const Status& status, std::string_view param) {
  const int http = HttpStatus(status.code());
  std::string_view type = http >= 500 ? "server_error" : "invalid_request_error";
  std::string_view code = ErrorCodeName(status.code());
  if (http == 401) code = "invalid_api_key";
  if (http == 404) code = "model_not_found";
  if (http == 429) type = code = "rate_limit_exceeded";
  HttpResponse response = Shaped(http, status.message(), type, param, code);
  AddRetryAfter(status, response);
  return response;
}

HttpResponse OpenAiRefusal(int http, const std::string& message, std::string_view code) {
  return Shaped(http, message, http >= 500 ? "server_error" : "invalid_request_error", {}, code);
}

}  // namespace botmodels
