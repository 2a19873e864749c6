#include "gateway/gateway.h"

#include <httplib.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>

#include "gateway/http_error.h"
#include "gateway/openapi.h"
#include "gateway/request_body.h"
#include "gateway/route_table.h"

namespace botmodels {
namespace {

using nlohmann::json;

// A client silent this long in the middle of a read or a write is cut off.
constexpr time_t kStallSeconds = 5;
// Idle keep-alive connections are closed after this, freeing their thread.
constexpr time_t kKeepAliveSeconds = 5;
// Requests per keep-alive connection (cpp-httplib's default is 5: far too few).
constexpr size_t kKeepAliveRequests = 10'000;
// /api/health asks the broker at most this often; callers in between get the last answer.
constexpr std::chrono::milliseconds kHealthEvery{1000};
constexpr std::chrono::milliseconds kHealthTimeout{2000};  // the broker's answer, at most
constexpr std::chrono::seconds kSweepEvery{60};            // outputs past retention go this often

std::unique_ptr<httplib::Server> MakeServer(const GatewayConfig& c) {
  if (c.tls_cert_file.empty()) return std::make_unique<httplib::Server>();
  return std::make_unique<httplib::SSLServer>(c.tls_cert_file.c_str(), c.tls_key_file.c_str());
}

}  // namespace

Gateway::Gateway(GatewayConfig config, ApiKeys keys, ClientOptions broker)
    : config_(std::move(config)),
      keys_(std::move(keys)),
      broker_(std::move(broker)),
      outputs_(config_.outputs_dir, config_.outputs_retention, config_.outputs_max_bytes),
      routes_(config_, broker_, outputs_),
      server_(MakeServer(config_)) {}

Gateway::~Gateway() { Stop(); }

Result<int> Gateway::Start() {
  if (!server_->is_valid()) {
    return Status(ErrorCode::kInvalidRequest, "gateway: cannot load the TLS certificate " +
                                                  config_.tls_cert_file + " or its key");
  }
  BOTMODELS_RETURN_IF_ERROR(outputs_.Open());
  const size_t threads = config_.threads;
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_->set_tcp_nodelay(true);
  server_->set_read_timeout(kStallSeconds, 0);
  server_->set_write_timeout(kStallSeconds, 0);
  server_->set_keep_alive_timeout(kKeepAliveSeconds);
  server_->set_keep_alive_max_count(kKeepAliveRequests);
  server_->set_payload_max_length(static_cast<size_t>(config_.max_body_bytes));
  // cpp-httplib listens with a backlog of 5: a burst of connections would
  // overflow it. The listening socket is kept here to listen again, deeper.
  server_->set_socket_options([this](int fd) {
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    listener_ = fd;
  });
  AddRoutes();

  const size_t colon = config_.listen.rfind(':');
  const std::string host = config_.listen.substr(0, colon);
  const int wanted = std::atoi(config_.listen.c_str() + colon + 1);
  const int port = wanted == 0 ? server_->bind_to_any_port(host) : wanted;
  if (port <= 0 || (wanted != 0 && !server_->bind_to_port(host, wanted))) {
    return Status(ErrorCode::kUnavailable, "gateway: cannot listen on " + config_.listen);
  }
  if (listener_ >= 0) ::listen(listener_, SOMAXCONN);
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  sweeper_ = std::thread([this] { SweepOutputs(); });
  spdlog::info("gateway on {}://{}:{}, {} threads, {} API keys",
               config_.tls_cert_file.empty() ? "http" : "https", host, port, threads, keys_.size());
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
  server_->stop();  // the thread pool finishes the requests it holds
  if (thread_.joinable()) thread_.join();
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

bool Gateway::Authorize(const httplib::Request& request, httplib::Response& response,
                        protocol::Role role) const {
  const std::string presented = request.get_header_value("X-API-Key");
  if (presented.empty() && role == protocol::Role::kInfer &&
      config_.keyless_from.Contains(request.remote_addr)) {
    keyless_requests_.fetch_add(1, std::memory_order_relaxed);
    spdlog::debug("gateway: keyless {} {} from {}", request.method, request.path,
                  request.remote_addr);
    return true;
  }
  const ApiKey* key = keys_.Match(presented);
  if (!key) {
    WriteJson(response, {{"detail", "Invalid API key"}}, 401);
    return false;
  }
  if (role == protocol::Role::kAdmin && key->role != protocol::Role::kAdmin) {
    WriteJson(response, {{"detail", "key '" + key->id + "' may not do this (admin only)"}}, 403);
    return false;
  }
  return true;
}

void Gateway::AddRoutes() {
  httplib::Server& s = *server_;
  // cpp-httplib tries routes in order, a regex match each: the generic
  // route, the hottest, goes first.
  s.Post(R"(/api/infer/([A-Za-z0-9_.\-]+))", [this](const httplib::Request& request,
                                                    httplib::Response& response,
                                                    const httplib::ContentReader& reader) {
    if (!Authorize(request, response, protocol::Role::kInfer)) {
      response.set_header("Connection", "close");
      return;
    }
    auto body =
        ReadRequestBody(request, response, reader, config_.client_timeout, config_.max_body_bytes);
    if (body.ok()) routes_.Infer(request.matches[1], *body, response);
  });
  for (const PostRoute& route : PostRoutes()) {
    const RouteAction action = route.action;
    s.Post(std::string(route.path),
           [this, action](const httplib::Request& request, httplib::Response& response,
                          const httplib::ContentReader& reader) {
             if (!Authorize(request, response, protocol::Role::kInfer)) {
               response.set_header("Connection", "close");  // its body is never read
               return;
             }
             auto body = ReadRequestBody(request, response, reader, config_.client_timeout,
                                         config_.max_body_bytes);
             if (body.ok()) routes_.Handle(action, request, std::move(*body), response);
           });
  }
  s.Get("/", [](const httplib::Request&, httplib::Response& response) {
    WriteJson(response, {{"service", "botmodels"},
                         {"version", BOTMODELS_VERSION},
                         {"status", "running"},
                         {"docs", "/api/openapi.json"}});
  });
  s.Get("/api/health",
        [this](const httplib::Request&, httplib::Response& response) { Health(response); });
  s.Get("/api/openapi.json", [this](const httplib::Request&, httplib::Response& response) {
    WriteJson(response, OpenApiDocument(config_));
  });
  s.Get(R"(/outputs/.*)", [this](const httplib::Request& request, httplib::Response& response) {
    Outputs(request, response);
  });
  s.Get("/api/models", [this](const httplib::Request& request, httplib::Response& response) {
    if (Authorize(request, response, protocol::Role::kInfer)) Models(response);
  });
  s.Get("/api/status", [this](const httplib::Request& request, httplib::Response& response) {
    if (Authorize(request, response, protocol::Role::kAdmin)) WorkersStatus(response);
  });
  s.Options(R"(.*)", [](const httplib::Request&, httplib::Response& response) {
    response.status = 204;  // a CORS preflight: the headers are added below
    response.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    response.set_header("Access-Control-Allow-Headers", "X-API-Key, Content-Type, Range");
    response.set_header("Access-Control-Max-Age", "600");
  });
  s.set_post_routing_handler([this](const httplib::Request&, httplib::Response& response) {
    if (!config_.cors_origin.empty()) {
      response.set_header("Access-Control-Allow-Origin", config_.cors_origin);
    }
  });
  s.set_error_handler([](const httplib::Request&, httplib::Response& response) {
    if (!response.body.empty()) return;  // a handler's own answer
    const int status = response.status;
    const char* detail = status == 404   ? "Not Found"
                         : status == 405 ? "Method Not Allowed"
                         : status == 413 ? "Request body too large"
                         : status == 416 ? "Range Not Satisfiable"
                         : status < 500  ? "Bad Request"
                                         : "Internal Server Error";
    WriteJson(response, {{"detail", detail}}, status);
  });
  s.set_exception_handler(
      [](const httplib::Request& request, httplib::Response& response, std::exception_ptr error) {
        std::string what = "unknown";
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        spdlog::error("gateway: {} {} failed: {}", request.method, request.path, what);
        WriteError(response, {ErrorCode::kInternal, "internal error"});
      });
}

void Gateway::Health(httplib::Response& response) {
  {
    std::lock_guard lock(mutex_);
    if (!health_.is_null() && std::chrono::steady_clock::now() - health_at_ < kHealthEvery) {
      return WriteJson(response, health_, health_status_);
    }
  }
  std::set<std::string> routed;
  for (const std::string& model : config_.routes) {
    if (!model.empty()) routed.insert(model);
  }
  auto reply = broker_.Ask(protocol::Op::kStatus, kHealthTimeout);
  json models = json::object();
  std::string device = "cpu";
  bool healthy = reply.ok();
  if (healthy) {
    for (const std::string& model : routed) models[model] = "unavailable";
    for (const protocol::WorkerInfo& w : reply->workers) {
      if (!routed.count(w.model)) continue;
      if (w.device.rfind("cuda", 0) == 0) device = "cuda";
      if (w.state == protocol::WorkerStatus::kReady || w.state == protocol::WorkerStatus::kIdle) {
        models[w.model] = "ready";
      }
    }
    for (const auto& [model, state] : models.items()) healthy = healthy && state == "ready";
  }
  json body = {{"status", healthy ? "healthy" : "unhealthy"},
               {"version", BOTMODELS_VERSION},
               {"device", device},
               {"models", models}};
  if (!reply.ok()) body["broker"] = "unreachable: " + reply.status().message();
  std::lock_guard lock(mutex_);
  health_ = body;
  health_status_ = healthy ? 200 : 503;
  health_at_ = std::chrono::steady_clock::now();
  WriteJson(response, health_, health_status_);
}

void Gateway::Outputs(const httplib::Request& request, httplib::Response& response) const {
  auto file = outputs_.Find(request.path);
  if (!file) return WriteJson(response, {{"detail", "Not Found"}}, 404);
  const auto shared = std::make_shared<OutputFile>(std::move(*file));
  response.set_header("Accept-Ranges", "bytes");
  response.set_header("Cache-Control", "private, max-age=3600");
  // Streamed from the open file: a large video is never held in memory, and
  // cpp-httplib answers Range requests from the provider.
  response.set_content_provider(shared->size, shared->content_type,
                                [shared](size_t offset, size_t length, httplib::DataSink& sink) {
                                  char buffer[64 * 1024];
                                  const size_t want = std::min(length, sizeof buffer);
                                  const ssize_t n =
                                      ::pread(shared->fd, buffer, want, static_cast<off_t>(offset));
                                  if (n <= 0) return false;
                                  return sink.write(buffer, static_cast<size_t>(n));
                                });
}

void Gateway::Models(httplib::Response& response) {
  auto reply = broker_.Ask(protocol::Op::kModels, GatewayConfig::kDefaultTimeout);
  if (!reply.ok()) return WriteError(response, reply.status());
  json models = json::array();
  for (const protocol::ModelInfo& m : reply->models) {
    models.push_back({{"name", m.name},
                      {"state", std::string(protocol::ModelStatusName(m.state))},
                      {"workers", m.workers},
                      {"ready_workers", m.ready_workers},
                      {"queued", m.queued},
                      {"queue_size", m.queue_size}});
  }
  WriteJson(response, {{"routes", RouteModels(config_)}, {"models", models}});
}

void Gateway::WorkersStatus(httplib::Response& response) {
  auto reply = broker_.Ask(protocol::Op::kStatus, GatewayConfig::kDefaultTimeout);
  if (!reply.ok()) return WriteError(response, reply.status());
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
  json body = {{"workers", workers},
               {"broker_connections", broker_.connections()},
               {"keyless_requests", keyless_requests_.load(std::memory_order_relaxed)}};
  if (reply->broker) {
    body["broker"] = {{"version", reply->broker->version}, {"uptime_ms", reply->broker->uptime_ms}};
  }
  WriteJson(response, body);
}

}  // namespace botmodels
