#include "gateway/openapi.h"

#include "gateway/routes/route_table.h"

namespace botmodels {
namespace {

using nlohmann::json;

json Integer(int fallback, int min, int max) {
  return {{"type", "integer"}, {"default", fallback}, {"minimum", min}, {"maximum", max}};
}

json String() { return {{"type", "string"}}; }

// The fields of a JSON route's body, from the rows that check them.
json BodyFields(const PostRoute& route) {
  json fields = json::object();
  for (const FieldSpec& f : route.fields) {
    json& field = fields[std::string(f.name)];
    switch (f.kind) {
      case FieldKind::kPrompt:
        field = {{"type", "string"}, {"minLength", 1}, {"maxLength", kMaxPromptChars}};
        break;
      case FieldKind::kText:
        field = String();
        if (!f.text.empty()) field["default"] = f.text;
        break;
      case FieldKind::kInteger:
        field =
            Integer(static_cast<int>(f.fallback), static_cast<int>(f.min), static_cast<int>(f.max));
        break;
      case FieldKind::kNumber:
        field = {
            {"type", "number"}, {"default", f.fallback}, {"minimum", f.min}, {"maximum", f.max}};
        break;
      case FieldKind::kSeed:
        field = {{"type", "integer"}};
        break;
      case FieldKind::kFlag:
        field = {{"type", "boolean"}, {"default", false}};
        break;
      case FieldKind::kRecords:
        field = {{"type", "array"}, {"items", {{"type", "object"}}}};
        break;
    }
  }
  return fields;
}

// The form fields a file route takes besides the file.
json FileRouteFields(const PostRoute& route) {
  json fields = {{"file", {{"type", "string"}, {"format", "binary"}}}};
  for (const FieldSpec& f : route.fields) {
    json& field = fields[std::string(f.name)];
    if (f.kind == FieldKind::kInteger) {
      field =
          Integer(static_cast<int>(f.fallback), static_cast<int>(f.min), static_cast<int>(f.max));
    } else {
      field = String();
      if (!f.text.empty()) field["default"] = f.text;
    }
  }
  return fields;
}

// `summary`: the route's, or "Alias of <path>" for botserver's other spelling.
json Operation(const PostRoute& route, const std::string& summary) {
  json content;
  if (!TakesFile(route.handler)) {
    content["application/json"]["schema"] = {{"type", "object"}, {"properties", BodyFields(route)}};
  } else {
    content["multipart/form-data"]["schema"] = {
        {"type", "object"}, {"properties", FileRouteFields(route)}, {"required", {"file"}}};
    content["application/octet-stream"]["schema"] = {{"type", "string"}, {"format", "binary"}};
    content["application/json"]["schema"] = {{"type", "object"},
                                             {"properties", {{"image_path", String()}}}};
  }
  const auto error = [](const char* what) {
    return json{{"description", what},
                {"content",
                 {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
  };
  json op = {{"summary", summary},
             {"requestBody", {{"required", true}, {"content", content}}},
             {"security", {{{"ApiKey", json::array()}}}},
             {"responses",
              {{"200", {{"description", "The route's fields (docs/gateway.md)"}}},
               {"400", error("The input is malformed or not a format the model reads")},
               {"401", error("No key, or not a key of this gateway")},
               {"403", error("image_path outside files_dir")},
               {"404", error("The route's model is not served")},
               {"408", error("The body took longer than client_timeout_ms to arrive")},
               {"413", error("The body is over max_body_bytes")},
               {"422", error("A field is missing or out of range")},
               {"429", error("The model's queue is full; Retry-After says when to retry")},
               {"503", error("No model is configured for the route, or none can serve now")},
               {"504", error("The route's timeout passed")}}}};
  return op;
}

}  // namespace

json RouteModels(const GatewayConfig& config) {
  json routes = json::object();
  for (size_t i = 0; i < kModelRouteCount; ++i) {
    const std::string& model = config.routes[i];
    routes[std::string(ModelRouteKey(static_cast<ModelRoute>(i)))] =
        model.empty() ? json() : json(model);
  }
  return routes;
}

json OpenApiDocument(const GatewayConfig& config) {
  json paths = json::object();
  for (const PostRoute& route : PostRoutes()) {
    paths[std::string(route.path)]["post"] = Operation(route, std::string(route.summary));
    if (!route.alias.empty()) {
      paths[std::string(route.alias)]["post"] =
          Operation(route, "Alias of " + std::string(route.path));
    }
  }
  const auto get = [&](const char* path, const char* summary, bool key) {
    json op = {{"summary", summary}, {"responses", {{"200", {{"description", "OK"}}}}}};
    if (key) op["security"] = {{{"ApiKey", json::array()}}};
    paths[path]["get"] = op;
  };
  get("/", "The service's name and version", false);
  get("/api/health",
      "Healthy (200) when the broker has a ready worker for every routed model, "
      "else 503",
      false);
  get("/api/openapi.json", "This document", false);
  get("/outputs/{kind}/{name}", "A generated file (Range requests answered)", false);
  get("/api/models", "Which model serves each route, and the broker's models", true);
  get("/api/status", "The broker's workers (admin keys only)", true);
  paths["/api/infer/{model}"]["post"] = {
      {"summary", "Run any served model: {\"inputs\": {...}} in, {\"outputs\": {...}} out"},
      {"security", {{{"ApiKey", json::array()}}}},
      {"responses", {{"200", {{"description", "The model's outputs"}}}}}};
  // OpenAI's API (openai_routes.h) and the inference protocol's: either key.
  const json bearer = {{{"Bearer", json::array()}}, {{"ApiKey", json::array()}}};
  const auto standard = [&](const char* path, const char* method, const char* summary) {
    paths[path][method] = {{"summary", summary},
                           {"security", bearer},
                           {"responses", {{"200", {{"description", "As the standard says"}}}}}};
  };
  standard("/v1/models", "get", "OpenAI: the model names served");
  standard("/v1/models/{id}", "get", "OpenAI: one model");
  standard("/v1/audio/transcriptions", "post",
           "OpenAI: transcribe (json, text, srt, verbose_json, vtt)");
  standard("/v1/audio/translations", "post", "OpenAI: translate into English (Whisper models)");
  standard("/v1/audio/speech", "post", "OpenAI: speak (mp3, wav, pcm), streamed");
  standard("/v1/images/generations", "post", "OpenAI: generate images (url, b64_json)");
  // The Open Inference Protocol v2 (oip_routes.h).
  standard("/v2", "get", "Open Inference Protocol: server metadata");
  get("/v2/health/live", "Open Inference Protocol: live", false);
  get("/v2/health/ready", "Open Inference Protocol: ready (every model takes requests)", false);
  standard("/v2/models/{model}", "get", "Open Inference Protocol: a model's inputs and outputs");
  standard("/v2/models/{model}/ready", "get", "Open Inference Protocol: the model takes requests");
  standard("/v2/models/{model}/infer", "post", "Open Inference Protocol: JSON tensors in and out");
  return {
      {"openapi", "3.0.3"},
      {"info",
       {{"title", "botmodels gateway"},
        {"version", BOTMODELS_VERSION},
        {"description",
         "A drop-in for the Python botmodels service's REST API, served by "
         "botmodels' broker and workers."}}},
      {"x-botmodels-routes", RouteModels(config)},
      {"paths", paths},
      {"components",
       {{"securitySchemes",
         {{"ApiKey", {{"type", "apiKey"}, {"in", "header"}, {"name", "X-API-Key"}}},
          {"Bearer", {{"type", "http"}, {"scheme", "bearer"}}}}},
        {"schemas",
         {{"Error",
           {{"type", "object"}, {"properties", {{"detail", String()}, {"code", String()}}}}}}}}}};
}

}  // namespace botmodels
