#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "broker/admin.h"
#include "broker/authenticator.h"
#include "broker/credentials.h"
#include "broker/http_server.h"
#include "broker/log_limiter.h"
#include "broker/metrics.h"
#include "broker/process_launcher.h"
#include "broker/router.h"
#include "broker/supervisor.h"
#include "broker/zap_handler.h"
#include "common/broker_config.h"
#include "common/clock.h"
#include "common/model_config.h"

namespace botmodels {

// The broker process: a ROUTER frontend for clients, a ROUTER backend for
// workers, the Router between them and the Supervisor that keeps the workers
// running. It authenticates every client request before anything else (and
// every worker registration: an unproven worker gets nothing), answers
// malformed input with invalid_request, and bounds what it reads by
// config.limits; no peer can crash it.
//
// Single-threaded event loop (zmq::poll); not thread-safe, except
// RequestStop(), which is async-signal-safe.
class Broker final : private Outbox {
 public:
  // `models` come from the repository, `credentials` from LoadCredentials.
  Broker(BrokerConfig config, std::vector<ModelConfig> models, BrokerCredentials credentials,
         std::unique_ptr<ProcessLauncher> launcher);
  ~Broker() override;

  // Binds both sockets, starts the workers and serves until RequestStop().
  // Then it drains: new infer requests get `unavailable` while the accepted
  // ones finish, for up to config.drain_timeout (a second RequestStop() cuts
  // it short); what is still pending then is answered `unavailable`, and
  // every worker is stopped. Returns the process exit code; fails (1) when a
  // socket cannot be bound.
  int Run();

  static void RequestStop();

 private:
  // Sets limits and CURVE on both sockets and binds them; false on failure.
  bool Bind();
  void HandleClient();
  void HandleRequest(const std::string& client, const protocol::Request& request,
                     protocol::Role role, zmq::message_t& body);
  void HandleWorker();
  void RegisterWorker(const std::string& identity, std::vector<zmq::message_t>& frames);
  void Housekeeping();
  // Reads the config's [models] and the repository again and applies them
  // (Admin::Reload); the other sections need a restart. Errors change nothing.
  Status Reload();
  // Hands the HTTP endpoints a fresh snapshot when the last is old enough.
  void PublishHealth();
  // One turn of the event loop: poll, then handle what arrived.
  void Turn();

  // The role of the key that signed the frames (kAdmin with auth none), or
  // the error to send back. Failures are logged, rate-limited per peer.
  Result<protocol::Role> Authenticate(std::vector<zmq::message_t>& frames);
  // Logs a refusal unless `peer` has had its share of log lines lately.
  void LogRefusal(const std::string& peer, const std::string& what);
  void ReplyToClient(const std::string& client, const protocol::Reply& reply);
  protocol::BrokerInfo Info() const;

  // Outbox
  void SendToWorker(WorkerRecord& worker, PendingRequest& request, uint32_t budget_ms) override;
  void SendToClient(const std::string& client, zmq::message_t reply) override;
  void SendToWorkerFrames(const std::string& identity,
                          std::initializer_list<std::string_view> frames);

  // Constant after construction.
  const BrokerConfig config_;
  std::vector<ModelConfig> models_;  // replicas change with `scale`
  const BrokerCredentials credentials_;
  SteadyClock clock_;
  const Clock::TimePoint started_;

  std::optional<Authenticator> clients_;  // nullopt with auth none
  Authenticator workers_;
  LogLimiter refusals_log_;
  std::unique_ptr<ProcessLauncher> launcher_;
  Supervisor supervisor_;
  Metrics metrics_;
  Router router_;
  zmq::context_t context_;
  std::optional<ZapHandler> zap_;       // with CURVE on a socket
  std::optional<HttpServer> http_;      // unless [http] listen is ""
  Clock::TimePoint last_published_;     // the HTTP snapshot's
  Clock::TimePoint last_housekeeping_;  // Housekeeping() ran
  zmq::socket_t frontend_;
  zmq::socket_t backend_;
  bool draining_ = false;       // stopping: infer requests are refused
  std::optional<Admin> admin_;  // from Run(), once the workers are planned
};

}  // namespace botmodels
