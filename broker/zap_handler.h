#pragma once

#include <map>
#include <set>
#include <string>
#include <zmq.hpp>

#include "broker/log_limiter.h"
#include "common/clock.h"

namespace botmodels {

// Answers libzmq's ZAP requests (RFC 27) for the broker's CURVE sockets: a
// public key on the allowlist of the socket's ZAP domain is accepted, with the
// key as the connection's User-Id; anything else (another mechanism, an
// unknown domain, a key not listed) is refused and logged, rate-limited per
// peer address. Binds inproc://zeromq.zap.01 of `context`, so it must exist
// before any CURVE socket of that context binds.
//
// Single-threaded: the broker's event loop polls socket() and calls Handle().
class ZapHandler {
 public:
  // `allowlists`: ZAP domain -> Z85 public keys accepted there.
  ZapHandler(zmq::context_t& context, std::map<std::string, std::set<std::string>> allowlists,
             const Clock& clock);

  zmq::socket_t& socket() { return socket_; }

  // Answers the requests waiting on socket().
  void Handle();

 private:
  const std::map<std::string, std::set<std::string>> allowlists_;
  const Clock& clock_;
  zmq::socket_t socket_;
  LogLimiter refusals_log_;
};

}  // namespace botmodels
