#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string_view>

#include "common/gateway_config.h"
#include "common/protocol.h"
#include "gateway/model_call.h"
#include "gateway/output_store.h"
#include "gateway/routes/field_spec.h"

namespace botmodels {

// Which of ModelRoutes' handlers answers a route; the handler fixes the body
// form.
enum class RouteHandler {
  kGenerate,   // JSON fields in; the model's file saved under /outputs, its path out
  kSpeak,      // kGenerate, or with "stream": true the audio as it is synthesized
  kRecognize,  // a file (multipart, raw bytes or image_path) and form fields in
  kAnalyze,    // a file in; three recognition models at once
  kDetect,     // JSON records in; answered in the gateway, no model
};

// Whether the route's body is a file (else a JSON object of fields).
constexpr bool TakesFile(RouteHandler handler) {
  return handler == RouteHandler::kRecognize || handler == RouteHandler::kAnalyze;
}

// The Python service's response body for a model's answer.
using ReplyShaper = nlohmann::json (*)(const ModelCall& call);
// The fields a route's failed response has beside detail and code.
using FailureShaper = nlohmann::json (*)(std::string_view message);
// Last changes to a request's inputs once its fields are in.
using InputsHook = void (*)(protocol::NamedTensors& inputs);

// One POST route of the Python service's API: a row of a family's table
// (gateway/routes/*_routes.cc). Adding a route is a row, and a handler if no
// existing one fits.
struct PostRoute {
  std::string_view path;
  std::string_view alias = {};  // botserver's other spelling of the path; empty: none
  std::string_view summary;     // for the OpenAPI document
  RouteHandler handler;
  std::optional<ModelRoute> model = {};    // the [gateway.routes] key of its model; none: no model
  std::span<const FieldSpec> fields = {};  // in the document's order
  std::string_view upload = {};            // file routes: the model input the file becomes
  std::string_view product = {};           // generation: the model output saved as the file
  OutputKind product_kind = OutputKind::kImage;  // generation: where the file goes
  ReplyShaper reply = nullptr;                   // kRecognize
  FailureShaper failure = nullptr;               // null: {"error": message}
  InputsHook adjust = nullptr;                   // null: the fields' inputs as they are
};

}  // namespace botmodels
