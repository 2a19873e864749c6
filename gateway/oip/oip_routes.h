#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/gateway_config.h"
#include "gateway/broker_caller.h"
#include "gateway/http/http_message.h"
#include "gateway/model_specs.h"

namespace botmodels {

// What a /v2/models/... path names.
struct OipPath {
  enum class Action { kMetadata, kReady, kInfer };
  std::string model;
  Action action = Action::kMetadata;
};
// "/v2/models/{m}", "/v2/models/{m}/ready", "/v2/models/{m}/infer", each
// also with "/versions/1" after the model (models here have one version);
// nullopt for anything else.
std::optional<OipPath> ParseOipPath(std::string_view path);

// The Open Inference Protocol v2 over REST (KServe's v2, Triton's HTTP
// API; docs/gateway.md, "Open Inference Protocol"), answered by any served
// model. Errors are {"error": message} with http_error.h's statuses.
// Nothing here blocks. Thread-safe.
class OipRoutes {
 public:
  OipRoutes(const GatewayConfig& config, BrokerCaller& broker, ModelSpecs& specs)
      : config_(config), broker_(broker), specs_(specs) {}

  // GET /v2: {"name", "version", "extensions": ["binary_tensor_data"]}.
  void Server(Respond respond) const;
  // GET /v2/health/live: 200 while the gateway runs.
  void Live(Respond respond) const;
  // GET /v2/health/ready: 200 when the broker answers and every model is
  // ready (loaded, or loading on its first request), else 503.
  void Ready(Respond respond);
  // GET /v2/models/{m}: the model's inputs and outputs (OipMetadataJson).
  void Metadata(const std::string& model, Respond respond);
  // GET /v2/models/{m}/ready: 200 when it takes requests (loaded, or
  // loaded on its first request), else 400 (loading, failed, unloaded).
  void ModelReady(const std::string& model, Respond respond);
  // POST /v2/models/{m}/infer: JSON tensors in and out, or with the binary
  // tensor data extension (oip_json.h).
  void Infer(const std::string& model, HttpRequest request, Respond respond);

 private:
  const GatewayConfig& config_;
  BrokerCaller& broker_;
  ModelSpecs& specs_;
};

}  // namespace botmodels
