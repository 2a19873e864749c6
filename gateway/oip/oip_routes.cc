#include "gateway/oip/oip_routes.h"

#include <memory>
#include <nlohmann/json.hpp>

#include "gateway/http_error.h"
#include "gateway/model_call.h"
#include "gateway/oip/oip_json.h"

namespace botmodels {
namespace {

using nlohmann::json;

constexpr std::string_view kModelsPrefix = "/v2/models/";
constexpr std::string_view kVersion = "/versions/1";  // the one version a model has

HttpResponse OipError(const Status& status) {
  HttpResponse response = JsonResponse({{"error", status.message()}}, HttpStatus(status.code()));
  AddRetryAfter(status, response);
  return response;
}

// Whether a model in `state` takes requests now: loaded, or loading on
// its first one.
bool Serves(protocol::ModelStatus state) {
  return state == protocol::ModelStatus::kReady || state == protocol::ModelStatus::kIdle;
}

// The model `name` in the broker's models reply, or unknown_model.
Result<protocol::ModelInfo> Find(const Result<protocol::Reply>& reply, const std::string& name) {
  if (!reply.ok()) return reply.status();
  for (const protocol::ModelInfo& model : reply->models) {
    if (model.name == name) return model;
  }
  return Status(ErrorCode::kUnknownModel, "no model named '" + name.substr(0, 128) + "'");
}

}  // namespace

std::optional<OipPath> ParseOipPath(std::string_view path) {
  if (path.rfind(kModelsPrefix, 0) != 0) return std::nullopt;
  path.remove_prefix(kModelsPrefix.size());
  OipPath out;
  const auto ends_with = [&](std::string_view tail) {
    if (path.size() <= tail.size() || path.substr(path.size() - tail.size()) != tail) return false;
    path.remove_suffix(tail.size());
    return true;
  };
  if (ends_with("/ready")) {
    out.action = OipPath::Action::kReady;
  } else if (ends_with("/infer")) {
    out.action = OipPath::Action::kInfer;
  }
  ends_with(kVersion);
  if (path.empty() || path.find('/') != std::string_view::npos) return std::nullopt;
  out.model = std::string(path);
  return out;
}

void OipRoutes::Server(Respond respond) const {
  respond(JsonResponse(
      {{"name", "botmodels"}, {"version", BOTMODELS_VERSION}, {"extensions", json::array()}}));
}

void OipRoutes::Live(Respond respond) const {
  respond(HttpResponse::Text(200, "application/json", "{\"live\":true}"));
}

void OipRoutes::Ready(Respond respond) {
  broker_.Ask(protocol::Op::kModels, GatewayConfig::kDefaultTimeout,
              [respond](Result<protocol::Reply> reply) {
                bool ready = reply.ok();
                for (const protocol::ModelInfo& m :
                     reply.ok() ? reply->models : std::vector<protocol::ModelInfo>()) {
                  ready = ready && Serves(m.state);
                }
                respond(JsonResponse({{"ready", ready}}, ready ? 200 : 503));
              });
}

void OipRoutes::Metadata(const std::string& model, Respond respond) {
  broker_.Ask(protocol::Op::kModels, GatewayConfig::kDefaultTimeout,
              [model, respond](Result<protocol::Reply> reply) {
                auto info = Find(reply, model);
                if (!info.ok()) return respond(OipError(info.status()));
                respond(HttpResponse::Text(200, "application/json", OipMetadataJson(*info)));
              });
}

void OipRoutes::ModelReady(const std::string& model, Respond respond) {
  broker_.Ask(protocol::Op::kModels, GatewayConfig::kDefaultTimeout,
              [model, respond](Result<protocol::Reply> reply) {
                auto info = Find(reply, model);
                if (!info.ok()) return respond(OipError(info.status()));
                const bool ready = Serves(info->state);
                respond(JsonResponse({{"name", model}, {"ready", ready}}, ready ? 200 : 400));
              });
}

void OipRoutes::Infer(const std::string& model, HttpRequest request, Respond respond) {
  auto body = std::make_shared<std::string>(std::move(request.body));
  specs_.Inputs(
      model, [this, model, body, respond](Result<std::vector<protocol::TensorSpec>> specs) {
        if (!specs.ok()) return respond(OipError(specs.status()));
        auto parsed = ParseOipRequest(*body, *specs);
        if (!parsed.ok()) return respond(OipError(parsed.status()));
        auto wanted = std::make_shared<std::vector<std::string>>(std::move(parsed->outputs));
        CallModel(broker_, config_.broker_key_id, model, std::move(parsed->inputs),
                  GatewayConfig::kDefaultTimeout,
                  [model, id = parsed->id, wanted, respond](Result<ModelCall> call) {
                    if (!call.ok()) return respond(OipError(call.status()));
                    respond(HttpResponse::Text(200, "application/json",
                                               OipResponseJson(model, id, call->outputs, *wanted)));
                  });
      });
}

}  // namespace botmodels
