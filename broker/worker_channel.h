#pragma once

#include <chrono>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>
#include <zmq.hpp>

#include "broker/authenticator.h"
#include "broker/refusal_log.h"
#include "broker/router.h"
#include "common/clock.h"

namespace botmodels {

// The workers' side of the broker (docs/protocol.md, "Broker and workers"):
// reads the backend socket and tells the router what workers say
// (registrations, replies, model states, memory reports), and frames what
// the broker sends them (requests, heartbeats, disconnect). A registration
// must be signed with the worker secret, or come over a CURVE backend whose
// ZAP handler checked the worker's key; an unproven worker gets nothing, a
// message from an unknown identity gets `disconnect` (register again).
//
// Single-threaded (the broker's event loop); not thread-safe.
class WorkerChannel {
 public:
  // `workers` verifies signed registrations; with `curve_backend` unsigned
  // ones are accepted too. References must outlive this object.
  WorkerChannel(zmq::socket_t& socket, const Clock& clock, Router& router, Authenticator workers,
                bool curve_backend, RefusalLog& refusals);

  // Reads and handles what waits on the socket, up to a batch of messages.
  void Receive();

  // [request][job header][body]: the body's bytes are shared, not copied.
  void SendRequest(WorkerRecord& worker, PendingRequest& request, const protocol::JobHeader& job);

  // A heartbeat to each worker that has been sent nothing for `interval`.
  void SendHeartbeats(std::chrono::milliseconds interval);

 private:
  void HandleMessage(std::vector<zmq::message_t>& frames);
  void Register(const std::string& identity, std::vector<zmq::message_t>& frames);
  void Send(const std::string& identity, std::initializer_list<std::string_view> frames);

  zmq::socket_t& socket_;
  const Clock& clock_;
  Router& router_;
  Authenticator workers_;
  const bool curve_backend_;
  RefusalLog& refusals_;
  std::vector<zmq::message_t> frames_;  // Receive()'s, reused: no allocation per message
};

}  // namespace botmodels
