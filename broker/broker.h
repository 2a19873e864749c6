#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "broker/admin.h"
#include "broker/broker_sockets.h"
#include "broker/client_frontend.h"
#include "broker/credentials.h"
#include "broker/liveness.h"
#include "broker/metrics.h"
#include "broker/probe_server.h"
#include "broker/process_launcher.h"
#include "broker/readiness.h"
#include "broker/refusal_log.h"
#include "broker/residency.h"
#include "broker/router.h"
#include "broker/supervisor.h"
#include "broker/worker_channel.h"
#include "common/broker_config.h"
#include "common/clock.h"
#include "models/registry/model_config.h"

namespace botmodels {

// The broker process (docs/architecture.md): the event loop that joins its
// parts. BrokerSockets binds the frontend and backend; ClientFrontend checks
// client requests and hands them to Handle(), which runs the ops; the Router
// queues infer requests and WorkerChannel carries them to workers; the
// Supervisor starts and restarts worker processes, Liveness kills the ones
// that stopped working, Admin runs the operators' commands, Readiness
// publishes /readyz and /metrics. No peer can crash it: every part answers
// malformed input with an error and bounds what it reads by config.limits.
//
// Single-threaded event loop (zmq::poll); not thread-safe. The HTTP server
// has threads of its own (broker/probe_server.h).
class Broker final : private Outbox, private RequestHandler {
 public:
  // `models` come from the repository, `credentials` from LoadCredentials.
  // The broker stops when `stop_requests` turns 1 (drain) and again at 2
  // (stop at once): a signal handler increments it. `clock` and
  // `stop_requests` must outlive the broker.
  Broker(BrokerConfig config, std::vector<ModelConfig> models, BrokerCredentials credentials,
         std::unique_ptr<ProcessLauncher> launcher, const Clock& clock,
         const std::atomic<int>& stop_requests);
  ~Broker() override;

  // Binds both sockets, starts the workers and serves until a stop request.
  // Then it drains: new infer requests get `unavailable` while the accepted
  // ones finish, for up to config.drain_timeout (a second stop request cuts
  // it short); what is still pending then is answered `unavailable`, and
  // every worker is stopped. Returns the process exit code; fails (1) when a
  // socket or the HTTP port cannot be bound.
  int Run();

 private:
  // One turn of the event loop: poll, then handle what arrived.
  void Turn();
  // After the drain: refuses the requests still arriving for a moment.
  void RefuseStragglers();
  // Reaps and restarts workers, kills dead ones, heartbeats, publishes
  // health: every few ms, not every turn.
  void Housekeeping();
  // Reads the config's [models] and the repository again and applies them
  // (Admin::Reload); the other sections need a restart. Errors change nothing.
  Status Reload();
  protocol::BrokerInfo Info() const;

  // RequestHandler: runs an op whose key may run it.
  void Handle(const std::string& client, const protocol::Request& request,
              zmq::message_t& body) override;
  // Outbox: the router's messages.
  void SendToWorker(WorkerRecord& worker, PendingRequest& request,
                    const protocol::JobHeader& job) override;
  Delivery SendToClient(const std::string& client, zmq::message_t& reply) override;

  // Constant after construction.
  const BrokerConfig config_;
  const BrokerCredentials credentials_;
  const Clock& clock_;
  const std::atomic<int>& stop_requests_;
  const Clock::TimePoint started_;

  std::vector<ModelConfig> models_;  // replicas change with `scale`, models with `reload`
  std::unique_ptr<ProcessLauncher> launcher_;
  Supervisor supervisor_;
  Supervisor services_;  // processes beside the workers: the gateway
  Metrics metrics_;
  Router router_;
  Residency residency_;  // idle models' workers stopped, started again on demand
  RefusalLog refusals_;
  BrokerSockets sockets_;
  ClientFrontend frontend_;
  WorkerChannel channel_;
  Liveness liveness_;
  std::optional<ProbeServer> http_;     // unless [http] listen is ""
  std::optional<Readiness> readiness_;  // with http_
  std::optional<Admin> admin_;          // from Run(), once the workers are planned
  Clock::TimePoint last_housekeeping_;
  bool draining_ = false;  // stopping: infer requests are refused
};

}  // namespace botmodels
