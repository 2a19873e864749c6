#pragma once

#include <string>
#include <zmq.hpp>

#include "broker/log_limiter.h"
#include "common/clock.h"

namespace botmodels {

// Logs what the broker refuses (unauthenticated requests, unproven worker
// registrations), rate-limited per peer so that a peer failing in a loop
// cannot flood the log. Shared by the client frontend and the worker channel.
//
// Not thread-safe (the broker's event loop).
class RefusalLog {
 public:
  explicit RefusalLog(const Clock& clock);

  // Logs "refused <what> from <peer>" unless `peer` has had its share lately.
  void Refused(const std::string& peer, const std::string& what);

  // The peer address of a received frame ("a local peer" on ipc and inproc).
  static std::string PeerOf(zmq::message_t& frame);

 private:
  const Clock& clock_;
  LogLimiter limiter_;
};

}  // namespace botmodels
