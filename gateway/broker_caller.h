#pragma once

#include <chrono>
#include <functional>

#include "common/protocol.h"
#include "common/status.h"

namespace botmodels {

// How the gateway's routes reach the broker: asynchronously, a handler per
// request. An interface, so that routes can be tested with a fake broker.
class BrokerCaller {
 public:
  using ReplyHandler = std::function<void(Result<protocol::Reply>)>;
  using PartialHandler = std::function<void(protocol::Reply partial)>;

  virtual ~BrokerCaller() = default;

  // Sends `request` with `timeout` as its deadline. `done` is called once,
  // from any thread (even before Call() returns), with the reply (which may
  // carry an error), or unavailable when none came.
  virtual void Call(protocol::Request request, std::chrono::milliseconds timeout,
                    ReplyHandler done) = 0;

  // Call() for a streamed request (request.stream true): each
  // partial reply goes to `partial`, in order, before `done` gets the final
  // one. Both run on the same thread as Call()'s `done` may.
  virtual void Stream(protocol::Request request, std::chrono::milliseconds timeout,
                      PartialHandler partial, ReplyHandler done) = 0;

  // Call() for an operation on the broker itself (models, status): an error
  // reply comes back as a failed Result.
  void Ask(protocol::Op op, std::chrono::milliseconds timeout, ReplyHandler done);
};

}  // namespace botmodels
