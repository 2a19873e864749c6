#include "gateway/oip/oip_routes.h"

#include <charconv>
#include <memory>
#include <nlohmann/json.hpp>

#include "gateway/http_error.h"
#include "gateway/model_call.h"
#include "gateway/oip/oip_json.h"

namespace botmodels {
namespace {

using nlohmann::json;

constexpr std::string_view kModelsPrefix = "/v2/models/";
constexpr std::string_view kVersion = "/versions/1";                 // the one version a model has
constexpr char kHeaderLength[] = "Inference-Header-Content-Length";  // the binary extension

HttpResponse OipError(const Status& status) {
  HttpResponse response = JsonResponse({{"error", status.message()}}, HttpStatus(status.code()));
  AddRetryAfter(status, response);
  return response;
}

// Whether a model in `state` takes requests now: loaded, or loading on
// its first one.
bool Serves(protocol::ModelStatus state) {
  return state == protocol::ModelStatus::kReady || state == protocol::ModelStatus::kIdle ||
         state == protocol::ModelStatus::kEvicted;  // its next request starts it
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
  respond(JsonResponse({{"name", "botmodels"},
                        {"version", BOTMODELS_VERSION},
                        {"extensions", {"binary_tensor_data"}}}));
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
  // The binary tensor data extension: this much JSON, then the inputs' bytes.
  std::optional<size_t> header_bytes;
  if (const std::string_view length = request.headers.Get(kHeaderLength); !length.empty()) {
    size_t n = 0;
    const auto [end, error] = std::from_chars(length.data(), length.data() + length.size(), n);
    if (error != std::errc() || end != length.data() + length.size()) {
      return respond(OipError(InvalidRequest("Inference-Header-Content-Length: a byte count")));
    }
    header_bytes = n;
  }
  auto body = std::make_shared<std::string>(std::move(request.body));
  specs_.Inputs(model, [this, model, body, header_bytes,
                        respond](Result<ModelSpecs::Declared> specs) {
    if (!specs.ok()) return respond(OipError(specs.status()));
    auto parsed = ParseOipRequest(*body, **specs, header_bytes);
    if (!parsed.ok()) return respond(OipError(parsed.status()));
    protocol::NamedTensors inputs = std::move(parsed->inputs);
    auto asked = std::make_shared<OipRequest>(std::move(*parsed));
    CallModel(broker_, config_.broker_key_id, model, std::move(inputs),
              GatewayConfig::kDefaultTimeout, [model, asked, respond](Result<ModelCall> call) {
                if (!call.ok()) return respond(OipError(call.status()));
                OipResponse made = MakeOipResponse(model, *asked, call->outputs);
                if (!made.header_bytes) {
                  return respond(HttpResponse::Text(200, "application/json", std::move(made.body)));
                }
                HttpResponse response =
                    HttpResponse::Text(200, "application/octet-stream", std::move(made.body));
                response.headers.Set(kHeaderLength, std::to_string(*made.header_bytes));
                respond(std::move(response));
              });
  });
}

}  // namespace botmodels
