#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/exit_codes.h"
#include "models/model_backend.h"
#include "models/registry/model_config.h"
#include "worker/broker_link.h"

namespace botmodels {

struct WorkerOptions {
  // The brokers' backend endpoints: the worker registers with each and
  // serves them all, each with its own credit (max_inflight).
  std::vector<std::string> brokers;
  std::string worker_id;       // unique per broker, e.g. "mlp-0"
  std::string device = "cpu";  // "cpu" or "cuda:N"
  ModelConfig model;
  BackendMaker make_backend;  // the backends this executable links
  bool preload = false;       // load before the first request (also when model.preload)
  std::chrono::milliseconds heartbeat = protocol::kDefaultHeartbeat;  // must match the broker's
  std::chrono::milliseconds liveness = protocol::kDefaultLiveness;    // broker silent: reconnect
  LinkSecurity security;    // worker secret, CURVE keys, message size
  protocol::Limits limits;  // the broker's, for decoding its requests
};

// One worker process: one model on one device. Run() is the zguide mdworker
// loop on one thread: receive requests, run them (Executor), send the
// replies, while a Pulse thread keeps the heartbeats flowing during long
// forwards. The model loads lazily on the first request unless preloaded.
class Worker {
 public:
  explicit Worker(WorkerOptions options);

  // Serves until RequestStop() or a failed model load; returns the exit code.
  int Run();

  // Async-signal-safe: makes Run() return kExitOk soon.
  static void RequestStop();

 private:
  WorkerOptions options_;
};

}  // namespace botmodels
