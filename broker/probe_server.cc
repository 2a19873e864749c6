#include "broker/probe_server.h"

#include <httplib.h>

#include "broker/status_page.h"

namespace botmodels {
namespace {

constexpr char kText[] = "text/plain; charset=utf-8";
constexpr char kPrometheus[] = "text/plain; version=0.0.4; charset=utf-8";
constexpr char kHtml[] = "text/html; charset=utf-8";
constexpr char kJson[] = "application/json";

}  // namespace

ProbeServer::ProbeServer(std::chrono::milliseconds stale_after)
    : stale_after_(stale_after), server_(std::make_unique<httplib::Server>()) {
  server_->Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    std::lock_guard lock(mutex_);
    const auto age = std::chrono::steady_clock::now() - published_;
    const bool alive = age < stale_after_;
    res.status = alive ? 200 : 503;
    res.set_content(alive ? "ok\n" : "the broker's event loop is not responding\n", kText);
  });
  server_->Get("/readyz", [this](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex_);
    std::string body;
    bool ready = snapshot_.ready;
    if (req.has_param("model")) {
      const std::string model = req.get_param_value("model");
      auto it = snapshot_.model_ready.find(model);
      ready = it != snapshot_.model_ready.end() && it->second;
      body = model + (it == snapshot_.model_ready.end() ? ": not served\n"
                      : ready                           ? ": ready\n"
                                                        : ": not ready\n");
    } else {
      for (const auto& [model, ok] : snapshot_.model_ready) {
        body += model + (ok ? ": ready\n" : ": not ready\n");
      }
    }
    res.status = ready ? 200 : 503;
    res.set_content(body, kText);
  });
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    std::lock_guard lock(mutex_);
    res.set_content(snapshot_.metrics, kPrometheus);
  });
  server_->Get("/status", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-cache");
    // The page runs its own script and loads nothing from anywhere else.
    res.set_header("Content-Security-Policy",
                   "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                   "connect-src 'self'");
    const std::string_view page = StatusPageHtml();
    res.set_content(page.data(), page.size(), kHtml);
  });
  server_->Get("/status.json", [this](const httplib::Request&, httplib::Response& res) {
    std::lock_guard lock(mutex_);
    res.set_header("Cache-Control", "no-store");
    res.set_content(snapshot_.status, kJson);
  });
}

ProbeServer::~ProbeServer() { Stop(); }

Result<int> ProbeServer::Start(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return Status(ErrorCode::kInvalidRequest, "http listen '" + listen + "': expected host:port");
  }
  const std::string host = listen.substr(0, colon);
  int port = 0;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (const std::exception&) {
    return Status(ErrorCode::kInvalidRequest, "http listen '" + listen + "': bad port");
  }
  {
    std::lock_guard lock(mutex_);
    published_ = std::chrono::steady_clock::now();
  }
  int bound = -1;
  if (port == 0) {
    bound = server_->bind_to_any_port(host);
  } else if (server_->bind_to_port(host, port)) {
    bound = port;
  }
  if (bound <= 0) return Status(ErrorCode::kUnavailable, "cannot listen on " + listen);
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return bound;
}

void ProbeServer::Stop() {
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

void ProbeServer::Publish(HealthSnapshot snapshot) {
  std::lock_guard lock(mutex_);
  snapshot_ = std::move(snapshot);
  published_ = std::chrono::steady_clock::now();
}

}  // namespace botmodels
