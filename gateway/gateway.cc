#include "gateway/gateway.h"

#include <spdlog/spdlog.h>

#include <set>

#include "gateway/file_source.h"
#include "gateway/http/byte_range.h"
#include "gateway/http_error.h"
#include "gateway/openai/openai_error.h"
#include "gateway/openapi.h"

namespace botmodels {
namespace {

using nlohmann::json;

// /api/health asks the broker at most this often; callers in between get the last answer.
constexpr std::chrono::milliseconds kHealthEvery{1000};
constexpr std::chrono::milliseconds kHealthTimeout{2000};  // the broker's answer, at most
constexpr std::chrono::seconds kSweepEvery{60};            // outputs past retention go this often
constexpr std::string_view kInferPrefix = "/api/infer/";
constexpr std::string_view kOutputsPrefix = "/outputs/";
constexpr std::string_view kOpenAiPrefix = "/v1/";
constexpr std::string_view kOpenAiModelsPrefix = "/v1/models/";
constexpr std::string_view kBearer = "Bearer ";  // Authorization's scheme, any case

HttpServerOptions ServerOptions(const GatewayConfig& c) {
  HttpServerOptions o;
  o.listen = c.listen;
  o.io_threads = c.threads;
  o.tls_cert_file = c.tls_cert_file;
  o.tls_key_file = c.tls_key_file;
  o.max_header_bytes = c.max_header_bytes;
  o.max_body_bytes = static_cast<uint64_t>(c.max_body_bytes);
  o.header_timeout = c.header_timeout;
  o.body_timeout = c.client_timeout;
  o.idle_timeout = c.idle_timeout;
  o.write_timeout = c.client_timeout;
  o.max_connections = c.max_connections;
  return o;
}

bool ModelName(std::string_view name) {
  return !name.empty() && name.size() <= 128 &&
         name.find_first_not_of(
             "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") ==
             std::string_view::npos;
}

// Answers a request once: the CORS header added, and a 500 sent if the
// handler's chain ends without answering (an exception on the way), so that
// no request goes unanswered.
class Answer {
 public:
  Answer(Respond respond, std::string cors)
      : respond_(std::move(respond)), cors_(std::move(cors)) {}
  ~Answer() {
    if (!sent_) Send(ErrorResponse({ErrorCode::kInternal, "internal error"}));
  }
  void Send(HttpResponse response) {
    if (sent_.exchange(true)) return;
    if (!cors_.empty()) response.headers.Set("Access-Control-Allow-Origin", cors_);
    respond_(std::move(response));
  }

 private:
  Respond respond_;
  std::string cors_;
  std::atomic<bool> sent_ = false;
};

// The paths the gateway answers itself, each with its one method; the POST
// routes' rows and the paths with a name in them (/api/infer/{model},
// /outputs/..., /v1/models/{id}, /v2/models/...) are found apart.
struct FixedPath {
  std::string_view path;
  std::string_view method;
  Gateway::EndpointKind kind;
  protocol::Role role = protocol::Role::kInfer;
  bool open = false;  // no key needed
};

using K = Gateway::EndpointKind;
constexpr FixedPath kFixedPaths[] = {
    {"/", "GET", K::kRoot, protocol::Role::kInfer, true},
    {"/api/health", "GET", K::kHealth, protocol::Role::kInfer, true},
    {"/api/openapi.json", "GET", K::kOpenApi, protocol::Role::kInfer, true},
    {"/api/models", "GET", K::kModels},
    {"/api/status", "GET", K::kStatus, protocol::Role::kAdmin},
    {"/v1/models", "GET", K::kOpenAiModels},
    {"/v1/audio/transcriptions", "POST", K::kOpenAiTranscribe},
    {"/v1/audio/translations", "POST", K::kOpenAiTranslate},
    {"/v1/audio/speech", "POST", K::kOpenAiSpeak},
    {"/v1/images/generations", "POST", K::kOpenAiImagine},
    {"/v2", "GET", K::kOipServer},
    // Probes, open as /api/health is.
    {"/v2/health/live", "GET", K::kOipLive, protocol::Role::kInfer, true},
    {"/v2/health/ready", "GET", K::kOipReady, protocol::Role::kInfer, true},
};

const FixedPath* FindFixedPath(std::string_view path) {
  for (const FixedPath& fixed : kFixedPaths) {
    if (fixed.path == path) return &fixed;
  }
  return nullptr;
}

}  // namespace

Gateway::Gateway(GatewayConfig config, ApiKeys keys, ClientOptions broker)
    : config_(std::move(config)),
      keys_(std::move(keys)),
      server_(ServerOptions(config_), *this),
      // A link to the broker per I/O thread.
      broker_(std::move(broker), server_.io_threads(), server_.io_context(), config_.broker_link),
      outputs_(config_.outputs_dir, config_.outputs_retention, config_.outputs_max_bytes),
      specs_(broker_),
      routes_(config_, broker_, outputs_, specs_),
      openai_(config_, broker_, specs_, outputs_),
      oip_(config_, broker_, specs_) {
  for (const PostRoute& route : PostRoutes()) {
    post_routes_[std::string(route.path)] = &route;
    if (!route.alias.empty()) post_routes_[std::string(route.alias)] = &route;
  }
}

Gateway::~Gateway() { Stop(); }

Result<int> Gateway::Start() {
  BOTMODELS_RETURN_IF_ERROR(outputs_.Open());
  BOTMODELS_RETURN_IF_ERROR(broker_.Start());
  auto port = server_.Start();
  if (!port.ok()) return Status(port.status().code(), "gateway: " + port.status().message());
  started_ = true;
  sweeper_ = std::thread([this] { SweepOutputs(); });
  const std::string host = config_.listen.substr(0, config_.listen.rfind(':'));
  spdlog::info("gateway on {}://{}:{}, {} I/O threads, {} API keys",
               config_.tls_cert_file.empty() ? "http" : "https", host, *port, server_.io_threads(),
               keys_.size());
  if (!config_.keyless_from.empty()) {
    spdlog::info(
        "gateway: requests without a key from {} networks (keyless_from) get the infer role",
        config_.keyless_from.size());
  }
  return port;
}

void Gateway::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  stop_cv_.notify_all();
  server_.Stop();  // answers what it holds (the broker hop runs on its threads)
  broker_.Stop();
  if (sweeper_.joinable()) sweeper_.join();
}

void Gateway::SweepOutputs() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    outputs_.Sweep(std::chrono::system_clock::now());
    lock.lock();
    stop_cv_.wait_for(lock, kSweepEvery, [this] { return stopping_; });
  }
}

Gateway::Endpoint Gateway::Find(const HttpRequest& request) const {
  using Kind = Endpoint::Kind;
  const std::string& path = request.path;
  std::string_view method = "POST";  // the one the path is for
  Endpoint endpoint;
  if (const auto it = post_routes_.find(path); it != post_routes_.end()) {
    endpoint.kind = Kind::kPost;
    endpoint.route = it->second;
  } else if (const FixedPath* fixed = FindFixedPath(path)) {
    endpoint.kind = fixed->kind;
    endpoint.role = fixed->role;
    endpoint.open = fixed->open;
    method = fixed->method;
  } else if (path.rfind(kInferPrefix, 0) == 0 && ModelName(path.substr(kInferPrefix.size()))) {
    endpoint.kind = Kind::kInfer;
  } else if (path.rfind(kOutputsPrefix, 0) == 0) {
    endpoint.kind = Kind::kOutputs;
    endpoint.open = true;
    method = "GET";
  } else if (path.rfind(kOpenAiModelsPrefix, 0) == 0) {
    endpoint.kind = Kind::kOpenAiModel;
    method = "GET";
  } else if (auto oip = ParseOipPath(path)) {
    method = oip->action == OipPath::Action::kInfer ? "POST" : "GET";
    endpoint.kind = Kind::kOipModel;
    endpoint.oip = std::move(oip);
  } else {
    return {Kind::kNotFound};
  }
  if (request.method != method) return {Kind::kNotAllowed};
  return endpoint;
}

std::optional<HttpResponse> Gateway::Screen(const HttpRequest& request) {
  if (request.method == "OPTIONS") {  // a CORS preflight
    HttpResponse response = HttpResponse::Text(204, "text/plain", "");
    response.headers.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    response.headers.Set("Access-Control-Allow-Headers", "X-API-Key, Content-Type, Range");
    response.headers.Set("Access-Control-Max-Age", "600");
    if (!config_.cors_origin.empty()) {
      response.headers.Set("Access-Control-Allow-Origin", config_.cors_origin);
    }
    return response;
  }
  const Endpoint endpoint = Find(request);
  // /v1 answers in OpenAI's shape, the rest in the Python service's.
  const bool openai = request.path.rfind(kOpenAiPrefix, 0) == 0;
  std::optional<HttpResponse> refused;
  if (endpoint.kind == Endpoint::Kind::kNotFound) {
    refused = openai ? OpenAiRefusal(404, "Invalid URL (" + request.method + " " +
                                              request.path.substr(0, 256) + ")")
                     : JsonResponse({{"detail", "Not Found"}}, 404);
  } else if (endpoint.kind == Endpoint::Kind::kNotAllowed) {
    refused = openai ? OpenAiRefusal(405, "Method Not Allowed")
                     : JsonResponse({{"detail", "Method Not Allowed"}}, 405);
    refused->headers.Set("Allow", "GET, POST, OPTIONS");
  } else if (!endpoint.open) {
    if (const auto denied = Authorize(request, endpoint.role)) {
      refused = openai ? OpenAiError(*denied)
                       : JsonResponse({{"detail", denied->message()}}, HttpStatus(denied->code()));
    }
  }
  if (refused && !config_.cors_origin.empty()) {
    refused->headers.Set("Access-Control-Allow-Origin", config_.cors_origin);
  }
  return refused;
}

std::optional<Status> Gateway::Authorize(const HttpRequest& request, protocol::Role role) const {
  std::string_view presented = request.headers.Get("X-API-Key");
  if (const std::string_view bearer = request.headers.Get("Authorization");
      presented.empty() && bearer.size() > kBearer.size() &&
      SameIgnoringCase(bearer.substr(0, kBearer.size()), kBearer)) {
    presented = bearer.substr(kBearer.size());
  }
  if (presented.empty() && role == protocol::Role::kInfer &&
      config_.keyless_from.Contains(request.remote_addr)) {
    keyless_requests_.fetch_add(1, std::memory_order_relaxed);
    spdlog::debug("gateway: keyless {} {} from {}", request.method, request.path,
                  request.remote_addr);
    return std::nullopt;
  }
  const ApiKey* key = keys_.Match(presented);
  if (!key) return Status(ErrorCode::kUnauthenticated, "Invalid API key");
  if (role == protocol::Role::kAdmin && key->role != protocol::Role::kAdmin) {
    return Status(ErrorCode::kPermissionDenied,
                  "key '" + key->id + "' may not do this (admin only)");
  }
  return std::nullopt;
}

void Gateway::Handle(HttpRequest request, Respond respond) {
  auto answer = std::make_shared<Answer>(std::move(respond), config_.cors_origin);
  Respond send = [answer](HttpResponse response) { answer->Send(std::move(response)); };
  const Endpoint endpoint = Find(request);  // Screen() let it through: it is found
  try {
    switch (endpoint.kind) {
      case Endpoint::Kind::kNotFound:
      case Endpoint::Kind::kNotAllowed:
        return send(JsonResponse({{"detail", "Not Found"}}, 404));
      case Endpoint::Kind::kPost:
        return routes_.Handle(*endpoint.route, std::move(request), std::move(send));
      case Endpoint::Kind::kInfer: {
        const std::string model = request.path.substr(kInferPrefix.size());
        return routes_.Infer(model, std::move(request), std::move(send));
      }
      case Endpoint::Kind::kRoot:
        return send(JsonResponse({{"service", "botmodels"},
                                  {"version", BOTMODELS_VERSION},
                                  {"status", "running"},
                                  {"docs", "/api/openapi.json"}}));
      case Endpoint::Kind::kHealth:
        return Health(std::move(send));
      case Endpoint::Kind::kOpenApi:
        return send(JsonResponse(OpenApiDocument(config_)));
      case Endpoint::Kind::kOutputs:
        return send(Outputs(request));
      case Endpoint::Kind::kModels:
        return Models(std::move(send));
      case Endpoint::Kind::kStatus:
        return WorkersStatus(std::move(send));
      case Endpoint::Kind::kOpenAiModels:
        return openai_.Models(std::move(send));
      case Endpoint::Kind::kOpenAiModel:
        return openai_.Model(request.path.substr(kOpenAiModelsPrefix.size()), std::move(send));
      case Endpoint::Kind::kOpenAiTranscribe:
        return openai_.Transcribe(std::move(request), std::move(send));
      case Endpoint::Kind::kOpenAiTranslate:
        return openai_.Transcribe(std::move(request), std::move(send), /*translate=*/true);
      case Endpoint::Kind::kOpenAiSpeak:
        return openai_.Speak(std::move(request), std::move(send));
      case Endpoint::Kind::kOpenAiImagine:
        return openai_.Imagine(std::move(request), std::move(send));
      case Endpoint::Kind::kOipServer:
        return oip_.Server(std::move(send));
      case Endpoint::Kind::kOipLive:
        return oip_.Live(std::move(send));
      case Endpoint::Kind::kOipReady:
        return oip_.Ready(std::move(send));
      case Endpoint::Kind::kOipModel:
        switch (endpoint.oip->action) {
          case OipPath::Action::kMetadata:
            return oip_.Metadata(endpoint.oip->model, std::move(send));
          case OipPath::Action::kReady:
            return oip_.ModelReady(endpoint.oip->model, std::move(send));
          case OipPath::Action::kInfer:
            return oip_.Infer(endpoint.oip->model, std::move(request), std::move(send));
        }
        return;
    }
  } catch (const std::exception& e) {
    spdlog::error("gateway: {} {} failed: {}", request.method, request.path, e.what());
    send(ErrorResponse({ErrorCode::kInternal, "internal error"}));
  }
}

HttpResponse Gateway::Refusal(int status, std::string message) {
  // Before the path is known: both shapes, the Python service's and OpenAI's.
  const nlohmann::json error = {{"message", message},
                                {"type", status >= 500 ? "server_error" : "invalid_request_error"},
                                {"param", nullptr},
                                {"code", nullptr}};
  HttpResponse response =
      JsonResponse({{"detail", message}, {"code", "invalid_request"}, {"error", error}}, status);
  if (status == 503) response.headers.Set("Retry-After", "1");
  if (!config_.cors_origin.empty()) {
    response.headers.Set("Access-Control-Allow-Origin", config_.cors_origin);
  }
  return response;
}

void Gateway::Health(Respond respond) {
  std::optional<HttpResponse> recent;
  {
    std::lock_guard lock(mutex_);
    if (!health_.is_null() && std::chrono::steady_clock::now() - health_at_ < kHealthEvery) {
      recent = JsonResponse(health_, health_status_);
    }
  }
  if (recent) return respond(std::move(*recent));  // handlers are called outside locks
  broker_.Ask(protocol::Op::kStatus, kHealthTimeout,
              [this, respond = std::move(respond)](Result<protocol::Reply> reply) {
                std::set<std::string> routed;
                for (const std::string& model : config_.routes) {
                  if (!model.empty()) routed.insert(model);
                }
                json models = json::object();
                std::string device = "cpu";
                bool healthy = reply.ok();
                if (healthy) {
                  for (const std::string& model : routed) models[model] = "unavailable";
                  for (const protocol::WorkerInfo& w : reply->workers) {
                    if (!routed.count(w.model)) continue;
                    if (w.device.rfind("cuda", 0) == 0) device = "cuda";
                    if (w.state == protocol::WorkerStatus::kReady ||
                        w.state == protocol::WorkerStatus::kIdle ||
                        w.state == protocol::WorkerStatus::kEvicted) {  // a request starts it
                      models[w.model] = "ready";
                    }
                  }
                  for (const auto& [model, state] : models.items()) {
                    healthy = healthy && state == "ready";
                  }
                }
                json body = {{"status", healthy ? "healthy" : "unhealthy"},
                             {"version", BOTMODELS_VERSION},
                             {"device", device},
                             {"models", models}};
                if (!reply.ok()) body["broker"] = "unreachable: " + reply.status().message();
                const int status = healthy ? 200 : 503;
                {
                  std::lock_guard lock(mutex_);
                  health_ = body;
                  health_status_ = status;
                  health_at_ = std::chrono::steady_clock::now();
                }
                respond(JsonResponse(body, status));
              });
}

HttpResponse Gateway::Outputs(const HttpRequest& request) const {
  auto file = outputs_.Find(request.path);
  if (!file) return JsonResponse({{"detail", "Not Found"}}, 404);
  const uint64_t size = file->size;
  const ByteRange range = ParseByteRange(request.headers.Get("Range"), size);
  if (range.kind == ByteRange::Kind::kUnsatisfiable) {
    HttpResponse response = JsonResponse({{"detail", "Range Not Satisfiable"}}, 416);
    response.headers.Set("Content-Range", "bytes */" + std::to_string(size));
    return response;
  }
  HttpResponse response;
  response.headers.Set("Content-Type", file->content_type);
  response.headers.Set("Accept-Ranges", "bytes");
  response.headers.Set("Cache-Control", "private, max-age=3600");
  if (range.kind == ByteRange::Kind::kPart) {
    response.status = 206;
    response.headers.Set("Content-Range", "bytes " + std::to_string(range.offset) + "-" +
                                              std::to_string(range.offset + range.length - 1) +
                                              "/" + std::to_string(size));
  }
  // Streamed from the open file: a large video is never held in memory.
  response.source = std::make_shared<FileSource>(
      std::make_shared<const OutputFile>(std::move(*file)), range.offset, range.length);
  return response;
}

void Gateway::Models(Respond respond) {
  broker_.Ask(protocol::Op::kModels, GatewayConfig::kDefaultTimeout,
              [this, respond = std::move(respond)](Result<protocol::Reply> reply) {
                if (!reply.ok()) return respond(ErrorResponse(reply.status()));
                json models = json::array();
                for (const protocol::ModelInfo& m : reply->models) {
                  models.push_back({{"name", m.name},
                                    {"state", std::string(protocol::ModelStatusName(m.state))},
                                    {"workers", m.workers},
                                    {"ready_workers", m.ready_workers},
                                    {"queued", m.queued},
                                    {"queue_size", m.queue_size}});
                }
                respond(JsonResponse({{"routes", RouteModels(config_)}, {"models", models}}));
              });
}

void Gateway::WorkersStatus(Respond respond) {
  broker_.Ask(protocol::Op::kStatus, GatewayConfig::kDefaultTimeout,
              [this, respond = std::move(respond)](Result<protocol::Reply> reply) {
                if (!reply.ok()) return respond(ErrorResponse(reply.status()));
                json workers = json::array();
                for (const protocol::WorkerInfo& w : reply->workers) {
                  workers.push_back({{"id", w.id},
                                     {"model", w.model},
                                     {"device", w.device},
                                     {"state", std::string(protocol::WorkerStatusName(w.state))},
                                     {"pid", w.pid},
                                     {"in_flight", w.in_flight},
                                     {"served", w.served},
                                     {"restarts", w.restarts},
                                     {"last_exit", w.last_exit},
                                     {"rss_bytes", w.rss_bytes}});
                }
                json body = {
                    {"workers", workers},
                    {"broker_connections", broker_.connections()},
                    {"http_connections", server_.connections()},
                    {"keyless_requests", keyless_requests_.load(std::memory_order_relaxed)}};
                if (reply->broker) {
                  body["broker"] = {{"version", reply->broker->version},
                                    {"uptime_ms", reply->broker->uptime_ms}};
                }
                respond(JsonResponse(body));
              });
}

}  // namespace botmodels
