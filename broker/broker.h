#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "broker/process_launcher.h"
#include "broker/router.h"
#include "broker/supervisor.h"
#include "common/broker_config.h"
#include "common/clock.h"
#include "common/model_config.h"
#include "common/request_signer.h"

namespace botmodels {

// The broker process: a ROUTER frontend for clients, a ROUTER backend for
// workers, the Router between them and the Supervisor that keeps the workers
// running. It authenticates every client request before anything else and
// answers malformed input with invalid_request; no peer can crash it.
//
// Single-threaded event loop (zmq::poll); not thread-safe, except
// RequestStop(), which is async-signal-safe.
class Broker final : private Outbox {
 public:
  // `models` come from the repository; `secret` is empty only with auth none.
  Broker(BrokerConfig config, std::vector<ModelConfig> models, std::string secret,
         std::unique_ptr<ProcessLauncher> launcher);
  ~Broker() override;

  // Binds both sockets, starts the workers and serves until RequestStop();
  // then answers what is pending with `unavailable` and stops every worker.
  // Returns the process exit code; fails (1) when a socket cannot be bound.
  int Run();

  static void RequestStop();

 private:
  void Bind();
  void HandleClient();
  void HandleWorker();
  void Housekeeping();

  // Authenticates the frames; an error goes back to the client.
  Status Authenticate(std::vector<zmq::message_t>& frames);
  void ReplyToClient(const std::string& client, const protocol::Reply& reply);
  protocol::Reply ModelsReply() const;
  protocol::Reply StatusReply() const;
  protocol::BrokerInfo Info() const;

  // Outbox
  void SendToWorker(WorkerRecord& worker, const PendingRequest& request,
                    uint32_t budget_ms) override;
  void SendToClient(const std::string& client, const std::string& reply) override;
  void SendToWorkerFrames(const std::string& identity,
                          std::initializer_list<std::string_view> frames);

  // Constant after construction.
  const BrokerConfig config_;
  const std::vector<ModelConfig> models_;
  const std::optional<RequestSigner> signer_;  // nullopt with auth none
  SteadyClock clock_;
  const Clock::TimePoint started_;

  std::unique_ptr<ProcessLauncher> launcher_;
  Supervisor supervisor_;
  Router router_;
  zmq::context_t context_;
  zmq::socket_t frontend_;
  zmq::socket_t backend_;
};

}  // namespace botmodels
