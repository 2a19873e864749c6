#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "client/client.h"
#include "common/gateway_config.h"
#include "common/protocol.h"
#include "common/status.h"
#include "gateway/api_keys.h"
#include "gateway/broker_hop.h"
#include "gateway/http/http_server.h"
#include "gateway/model_routes.h"
#include "gateway/model_specs.h"
#include "gateway/oip/oip_routes.h"
#include "gateway/openai/openai_routes.h"
#include "gateway/output_store.h"
#include "gateway/routes/route_table.h"

namespace botmodels {

// The HTTP gateway (docs/gateway.md): the Python botmodels service's REST
// API, answered by the broker's models. An event-driven HttpServer reads
// requests on a few I/O threads; a model's request goes to the broker over
// the BrokerHop, on the same threads, and its reply is shaped when it comes:
// no thread waits for a reply.
// Besides the Python service's routes it answers OpenAI's audio, images and
// models API under /v1 (OpenAiRoutes) and the Open Inference Protocol under
// /v2 (OipRoutes), on the same threads and broker hop.
// Open without a key: GET /, /api/health, /api/openapi.json, /outputs/ and
// /v2/health/*; every other route needs a key of the keys file, as
// X-API-Key or Authorization: Bearer (/api/status: an admin key), except a
// request without one from config.keyless_from, which gets the infer role
// (counted in /api/status as keyless_requests).
//
// Thread-safe; Start() and Stop() from one thread.
class Gateway : public HttpHandler {
 public:
  // `broker`: how to reach the broker (endpoint, signing key, CURVE).
  Gateway(GatewayConfig config, ApiKeys keys, ClientOptions broker);
  ~Gateway() override;  // Stop()

  // Binds config.listen (port 0: any free one), opens the outputs folder and
  // starts serving on threads of its own. Returns the bound port.
  Result<int> Start();
  // Stops accepting, answers the requests being served, and returns.
  void Stop();

  std::optional<HttpResponse> Screen(const HttpRequest& request) override;
  void Handle(HttpRequest request, Respond respond) override;
  HttpResponse Refusal(int status, std::string message) override;

  // What a request's path names (the handler it goes to).
  enum class EndpointKind {
    kNotFound,    // no such path: 404
    kNotAllowed,  // a path, but not for this method: 405
    kPost,
    kInfer,
    kRoot,
    kHealth,
    kOpenApi,
    kOutputs,
    kModels,
    kStatus,
    kOpenAiModels,      // GET /v1/models
    kOpenAiModel,       // GET /v1/models/{id}
    kOpenAiTranscribe,  // POST /v1/audio/transcriptions
    kOpenAiTranslate,   // POST /v1/audio/translations
    kOpenAiSpeak,       // POST /v1/audio/speech
    kOpenAiImagine,     // POST /v1/images/generations
    kOipServer,         // GET /v2
    kOipLive,           // GET /v2/health/live
    kOipReady,          // GET /v2/health/ready
    kOipModel,          // GET /v2/models/{m}, .../ready; POST .../infer (oip)
  };

 private:
  struct Endpoint {
    using Kind = EndpointKind;
    Kind kind = Kind::kRoot;
    protocol::Role role = protocol::Role::kInfer;
    bool open = false;                 // no key needed
    const PostRoute* route = nullptr;  // kPost's row
    std::optional<OipPath> oip = {};   // kOipModel's model and action
  };
  Endpoint Find(const HttpRequest& request) const;
  // nullopt when the request's key (X-API-Key, or Authorization: Bearer) is
  // a key of `role` or above, or it has none, comes from keyless_from and
  // needs only infer; else 401 or 403.
  std::optional<Status> Authorize(const HttpRequest& request, protocol::Role role) const;
  void Health(Respond respond);
  HttpResponse Outputs(const HttpRequest& request) const;
  void Models(Respond respond);
  void WorkersStatus(Respond respond);
  void SweepOutputs();

  const GatewayConfig config_;
  const ApiKeys keys_;
  std::unordered_map<std::string, const PostRoute*> post_routes_;  // by path and alias
  HttpServer server_;
  BrokerHop broker_;
  OutputStore outputs_;
  ModelSpecs specs_;
  ModelRoutes routes_;
  OpenAiRoutes openai_;
  OipRoutes oip_;
  std::thread sweeper_;                                // deletes old outputs now and then
  mutable std::atomic<uint64_t> keyless_requests_{0};  // let in by keyless_from
  bool started_ = false;

  std::mutex mutex_;  // guards the fields below
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point health_at_;  // when health_ was fetched
  nlohmann::json health_;                            // the last health report
  int health_status_ = 503;
};

}  // namespace botmodels
