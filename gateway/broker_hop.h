#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "client/client.h"
#include "common/gateway_config.h"
#include "gateway/broker_caller.h"

namespace boost::asio {
class io_context;
}

namespace botmodels {

// The gateway's connection to the broker: requests from every HTTP
// connection multiplexed over a few DEALER sockets ("lanes"), told apart by
// request id. Each lane lives on the HTTP server's I/O threads, on a strand:
// its BrokerLink speaks ZMTP there itself (ZmtpLink) or watches libzmq's
// ZMQ_FD (ZmqLink), so a request is sent, and its reply received and
// handled, on an I/O thread, with no thread waiting for a reply. Requests
// are encoded and signed by the caller. Thread-safe.
//
// With failover endpoints, each lane keeps its unanswered requests and
// moves them to the next broker when its broker is silent for
// failover_after, as Client does (client.h).
class BrokerHop : public BrokerCaller {
 public:
  // How much longer than a request's deadline the hop waits for its reply:
  // the broker answers deadline_exceeded at the deadline, and that answer
  // should be the one the caller sees.
  static constexpr std::chrono::milliseconds kReplySlack{2000};

  // `lanes`: links to spread requests over (at least 1), run on `io`.
  // `link`: kNative speaks ZMTP on the I/O threads where it can (tcp:// and
  // ipc:// without CURVE), libzmq elsewhere; kLibzmq always libzmq.
  BrokerHop(ClientOptions options, size_t lanes, boost::asio::io_context& io,
            BrokerLinkKind link = BrokerLinkKind::kNative);
  ~BrokerHop() override;

  // Connects; fails when CURVE is asked for and cannot be set up.
  Status Start();
  // Once `io` has stopped: calls still waiting are answered unavailable and
  // the sockets closed. Calls after it are answered unavailable.
  void Stop();

  void Call(protocol::Request request, std::chrono::milliseconds timeout,
            ReplyHandler done) override;
  void Stream(protocol::Request request, std::chrono::milliseconds timeout, PartialHandler partial,
              ReplyHandler done) override;

  size_t connections() const { return lanes_.size(); }

  struct Lane;

 private:
  std::string NextId() const;
  // [auth header, body, signature] for `body`.
  std::vector<std::string> Sign(std::string body) const;

  const ClientOptions options_;
  const BrokerLinkKind link_;
  std::vector<std::string> endpoints_;  // endpoint, then failover_endpoints
  std::optional<RequestSigner> signer_;
  std::shared_ptr<zmq::context_t> context_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  std::string id_prefix_;
  mutable std::atomic<uint64_t> next_id_{1};
  std::atomic<size_t> next_lane_{0};
  std::atomic<bool> running_{false};
};

}  // namespace botmodels
