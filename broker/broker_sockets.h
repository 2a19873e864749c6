#pragma once

#include <chrono>
#include <optional>
#include <zmq.hpp>

#include "broker/credentials.h"
#include "broker/zap_handler.h"
#include "common/broker_config.h"
#include "common/clock.h"
#include "common/status.h"

namespace botmodels {

// The broker's two ROUTER sockets, the clients' frontend and the workers'
// backend, with their security: the message size limit, CURVE where [curve]
// turns it on, and the ZAP handler that checks CURVE keys (docs/security.md).
//
// Single-threaded (the broker's event loop); not thread-safe.
class BrokerSockets {
 public:
  // Messages a reader takes from one socket per loop turn, so that neither
  // the clients nor the workers starve the other side.
  static constexpr int kReceiveBatch = 256;
  // Replies queued for one client that has not read them, in messages
  // (libzmq's default high-water mark, spelled out): a client that stops
  // reading costs the broker at most this many of its replies.
  static constexpr int kClientQueue = 1000;

  // `config`, `credentials` and `clock` must outlive this object.
  BrokerSockets(const BrokerConfig& config, const BrokerCredentials& credentials,
                const Clock& clock);

  // Sets the limits and CURVE on both sockets and binds them. The error
  // names the endpoint or the CURVE problem; nothing is bound then.
  Status Bind();

  // Which sockets have input.
  struct Input {
    bool frontend = false;
    bool backend = false;
  };
  // Waits up to `wait` (at least 1 ms) for input; answers ZAP requests on
  // the way. A signal ends the wait early with no input.
  Input Poll(std::chrono::milliseconds wait);

  zmq::socket_t& frontend() { return frontend_; }
  // The endpoint the frontend bound, with the port the system chose for a
  // wildcard ("tcp://127.0.0.1:*" -> "tcp://127.0.0.1:40061"). After Bind().
  std::string frontend_endpoint() const { return frontend_.get(zmq::sockopt::last_endpoint); }
  zmq::socket_t& backend() { return backend_; }

 private:
  const BrokerConfig& config_;
  const BrokerCredentials& credentials_;
  const Clock& clock_;
  zmq::context_t context_{1};
  std::optional<ZapHandler> zap_;  // with CURVE on a socket
  zmq::socket_t frontend_{context_, zmq::socket_type::router};
  zmq::socket_t backend_{context_, zmq::socket_type::router};
};

}  // namespace botmodels
