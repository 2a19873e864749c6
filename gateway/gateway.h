#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "client/client.h"
#include "common/gateway_config.h"
#include "common/protocol.h"
#include "common/status.h"
#include "gateway/api_keys.h"
#include "gateway/broker_pool.h"
#include "gateway/model_routes.h"
#include "gateway/output_store.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace botmodels {

// The HTTP gateway (docs/gateway.md): the Python botmodels service's REST
// API, answered by the broker's models. cpp-httplib serves it on
// `config.threads` threads; each request blocks its thread on its own broker
// connection (BrokerPool) until the model answers or its route's timeout.
// Open without a key: GET /, /api/health, /api/openapi.json and /outputs/;
// every other route needs an X-API-Key of the keys file (/api/status: an
// admin key), except a request without one from config.keyless_from, which
// gets the infer role (counted in /api/status as keyless_requests).
//
// Thread-safe; Start() and Stop() from one thread.
class Gateway {
 public:
  // `broker`: how to reach the broker (endpoint, signing key, CURVE).
  Gateway(GatewayConfig config, ApiKeys keys, ClientOptions broker);
  ~Gateway();  // Stop()

  // Binds config.listen (port 0: any free one), opens the outputs folder and
  // starts serving on threads of its own. Returns the bound port.
  Result<int> Start();
  // Stops accepting, lets the requests being served finish, and returns.
  void Stop();

 private:
  void AddRoutes();
  // Whether the request's X-API-Key is a key of `role` or above, or the
  // request has none, comes from keyless_from and needs only infer; answers
  // 401 (no or unknown key) or 403 (role) itself when not.
  bool Authorize(const httplib::Request& request, httplib::Response& response,
                 protocol::Role role) const;
  void Health(httplib::Response& response);
  void Outputs(const httplib::Request& request, httplib::Response& response) const;
  void Models(httplib::Response& response);
  void WorkersStatus(httplib::Response& response);
  void SweepOutputs();

  const GatewayConfig config_;
  const ApiKeys keys_;
  BrokerPool broker_;
  OutputStore outputs_;
  ModelRoutes routes_;
  std::unique_ptr<httplib::Server> server_;
  int listener_ = -1;                                  // the listening socket (server_ owns it)
  std::thread thread_;                                 // runs server_->listen_after_bind()
  std::thread sweeper_;                                // deletes old outputs now and then
  mutable std::atomic<uint64_t> keyless_requests_{0};  // let in by keyless_from

  std::mutex mutex_;  // guards the fields below
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point health_at_;  // when health_ was fetched
  nlohmann::json health_;                            // the last health report
  int health_status_ = 503;
};

}  // namespace botmodels
