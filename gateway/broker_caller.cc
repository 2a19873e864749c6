#include "gateway/broker_caller.h"

namespace botmodels {

void BrokerCaller::Ask(protocol::Op op, std::chrono::milliseconds timeout, ReplyHandler done) {
  protocol::Request request;
  request.op = op;
  Call(std::move(request), timeout, [done = std::move(done)](Result<protocol::Reply> reply) {
    if (reply.ok() && !reply->status.ok()) return done(reply->status);
    done(std::move(reply));
  });
}

}  // namespace botmodels
