#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"

namespace httplib {
class Server;
}

namespace botmodels {

// What the HTTP endpoints serve, published by the broker's event loop.
struct HealthSnapshot {
  std::string metrics;                      // Prometheus text
  std::string status;                       // status_page.h's JSON
  std::map<std::string, bool> model_ready;  // by model: can it serve now?
  bool ready = false;                       // every preload model has a ready worker
};

// Serves GET /healthz, /readyz, /metrics, /status and /status.json
// (docs/operations.md) with
// cpp-httplib on threads of its own. The broker's single-threaded loop never
// blocks on it: it publishes a snapshot now and then, and /healthz fails when
// the loop has not published within `stale_after` (the loop is stuck).
//
// Thread-safe: Publish() from the loop, handlers on the server's threads.
class ProbeServer {
 public:
  explicit ProbeServer(std::chrono::milliseconds stale_after);
  ~ProbeServer();  // Stop()

  // Binds `listen` ("host:port"; port 0 picks a free one) and starts serving.
  // Returns the bound port.
  Result<int> Start(const std::string& listen);
  void Stop();

  void Publish(HealthSnapshot snapshot);

 private:
  const std::chrono::milliseconds stale_after_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::mutex mutex_;  // guards the two below
  HealthSnapshot snapshot_;
  std::chrono::steady_clock::time_point published_;
};

}  // namespace botmodels
