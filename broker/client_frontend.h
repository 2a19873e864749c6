#pragma once

#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "broker/authenticator.h"
#include "broker/refusal_log.h"
#include "broker/router.h"
#include "common/protocol.h"

namespace botmodels {

// Where the client frontend hands the requests it has checked.
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // An authenticated, decoded request whose key may run its op. `body` is
  // the request frame as sent: an infer request forwards it uncopied.
  // The handler answers it, through ClientFrontend::Reply or later.
  virtual void Handle(const std::string& client, const protocol::Request& request,
                      zmq::message_t& body) = 0;
};

// The clients' side of the broker (docs/protocol.md, "Clients"): reads
// [routing id][header][body][signature] messages from the frontend socket and
// checks them in this order, answering the first failure itself:
//   1. the frame count (invalid_request);
//   2. the signature, timestamp and nonce (unauthenticated), unless `clients`
//      is nullopt (auth none);
//   3. the body, decoded within `limits` (invalid_request naming the field);
//   4. the key's role against the op (permission_denied).
// Every error reply echoes the request's id when the body can be read as a
// map holding one, also before authentication: only the id is read then.
// What passes goes to `handler`.
//
// Single-threaded (the broker's event loop); not thread-safe.
class ClientFrontend {
 public:
  // `socket`, `refusals` and `handler` must outlive this object.
  ClientFrontend(zmq::socket_t& socket, const protocol::Limits& limits,
                 std::optional<Authenticator> clients, RefusalLog& refusals,
                 RequestHandler& handler);

  // Reads and handles what waits on the socket, up to a batch of messages,
  // so that the workers' side is not starved.
  void Receive();

  // Sends one encoded reply frame to `client` without blocking: kFull when
  // BrokerSockets::kClientQueue of its replies wait unread (`reply` is left
  // as it was), kGone when the client is disconnected.
  Delivery Send(const std::string& client, zmq::message_t& reply);
  void Reply(const std::string& client, const protocol::Reply& reply);

 private:
  // The role of the key that signed the frames (kAdmin with auth none), or
  // the error to send back. Failures are logged, rate-limited per peer.
  Result<protocol::Role> Authenticate(std::vector<zmq::message_t>& frames);
  void HandleMessage(std::vector<zmq::message_t>& frames);

  zmq::socket_t& socket_;
  const protocol::Limits limits_;
  std::optional<Authenticator> clients_;  // nullopt with auth none
  RefusalLog& refusals_;
  RequestHandler& handler_;
  std::vector<zmq::message_t> frames_;  // Receive()'s, reused: no allocation per message
};

}  // namespace botmodels
