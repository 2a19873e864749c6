#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

#include "client/client.h"
#include "common/protocol.h"
#include "common/status.h"

namespace botmodels {

// The gateway's connections to the broker: one Client (DEALER socket) per
// request in flight, made on demand and kept for the next request, all on
// one ZeroMQ context. A request never waits for another's connection, and
// a thread blocked on one reply holds only its own socket. Thread-safe.
class BrokerPool {
 public:
  // How much longer than a request's deadline the pool waits for its reply:
  // the broker answers deadline_exceeded at the deadline, and that answer
  // should be the one the caller sees.
  static constexpr std::chrono::milliseconds kReplySlack{2000};

  explicit BrokerPool(ClientOptions options);

  // Sends `request` with `timeout` as its deadline and returns the reply
  // (which may carry an error); unavailable when none comes.
  Result<protocol::Reply> Call(protocol::Request request, std::chrono::milliseconds timeout);

  // Call() for an operation on the broker itself (models, status): an error
  // reply comes back as a failed Result.
  Result<protocol::Reply> Ask(protocol::Op op, std::chrono::milliseconds timeout);

  // Connections made so far (idle or in use).
  size_t connections() const;

 private:
  std::unique_ptr<Client> Acquire();
  void Release(std::unique_ptr<Client> client);

  ClientOptions options_;  // constant after construction
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Client>> idle_;  // guarded by mutex_
  size_t made_ = 0;                            // guarded by mutex_
};

}  // namespace botmodels
