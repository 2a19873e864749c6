#pragma once

#include <nlohmann/json.hpp>

#include "common/gateway_config.h"

namespace botmodels {

// The gateway's OpenAPI 3.0 document, served at /api/openapi.json: every
// route, its request forms and fields, its errors, and which model serves
// it under `config` (x-botmodels-model).
nlohmann::json OpenApiDocument(const GatewayConfig& config);

// {route key: its model, or null when none serves it}: x-botmodels-routes
// here, "routes" in GET /api/models.
nlohmann::json RouteModels(const GatewayConfig& config);

}  // namespace botmodels
