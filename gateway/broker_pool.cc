#include "gateway/broker_pool.h"

#include <spdlog/spdlog.h>

namespace botmodels {

BrokerPool::BrokerPool(ClientOptions options) : options_(std::move(options)) {
  if (!options_.context) options_.context = std::make_shared<zmq::context_t>(1);
}

std::unique_ptr<Client> BrokerPool::Acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto client = std::move(idle_.back());
      idle_.pop_back();
      return client;
    }
    ++made_;
  }
  return std::make_unique<Client>(options_);  // connecting needs no lock
}

void BrokerPool::Release(std::unique_ptr<Client> client) {
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(client));
}

size_t BrokerPool::connections() const {
  std::lock_guard lock(mutex_);
  return made_;
}

Result<protocol::Reply> BrokerPool::Call(protocol::Request request,
                                         std::chrono::milliseconds timeout) {
  request.timeout_ms = static_cast<uint32_t>(timeout.count());
  std::unique_ptr<Client> client;
  try {
    client = Acquire();
    client->set_timeout(timeout + kReplySlack);
    auto reply = client->Call(std::move(request));
    // A client whose call timed out may still receive that late reply; the
    // next Call() skips replies to other ids, so it can be used again.
    Release(std::move(client));
    return reply;
  } catch (const zmq::error_t& e) {  // the connection is dropped with `client`
    {
      std::lock_guard lock(mutex_);
      --made_;
    }
    spdlog::error("gateway: broker connection failed: {}", e.what());
    return Status(ErrorCode::kUnavailable, std::string("broker connection failed: ") + e.what());
  }
}

Result<protocol::Reply> BrokerPool::Ask(protocol::Op op, std::chrono::milliseconds timeout) {
  protocol::Request request;
  request.op = op;
  auto reply = Call(std::move(request), timeout);
  if (reply.ok() && !reply->status.ok()) return reply->status;
  return reply;
}

}  // namespace botmodels
