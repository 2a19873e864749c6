#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>
#include <zmq.hpp>

#include "client/client.h"
#include "gateway/broker_caller.h"

namespace botmodels {

// The gateway's connection to the broker: requests from every HTTP
// connection multiplexed over a few DEALER sockets, told apart by request
// id. One thread of its own sends and receives; no thread waits for a reply.
// Requests are encoded and signed by the caller's thread; replies are
// decoded here and their handlers run by `run` (the HTTP server's threads).
// Thread-safe.
class BrokerHop : public BrokerCaller {
 public:
  // How much longer than a request's deadline the hop waits for its reply:
  // the broker answers deadline_exceeded at the deadline, and that answer
  // should be the one the caller sees.
  static constexpr std::chrono::milliseconds kReplySlack{2000};

  using Runner = std::function<void(std::function<void()>)>;

  // `sockets`: DEALER sockets to spread requests over (at least 1).
  BrokerHop(ClientOptions options, size_t sockets, Runner run);
  ~BrokerHop() override;  // Stop()

  // Connects and starts the thread; fails when CURVE is asked for and
  // cannot be set up.
  Status Start();
  // Stops the thread; calls still waiting are answered unavailable.
  void Stop();

  void Call(protocol::Request request, std::chrono::milliseconds timeout,
            ReplyHandler done) override;

  size_t connections() const { return sockets_.size(); }

 private:
  using Clock = std::chrono::steady_clock;
  struct Outgoing {
    std::string id;
    std::vector<std::string> frames;
    Clock::time_point until;
    ReplyHandler done;
  };
  struct Pending {
    ReplyHandler done;
    std::multimap<Clock::time_point, std::string>::iterator deadline;
  };

  void Loop();
  void SendQueued();
  void Receive(zmq::socket_t& socket);
  void Expire(Clock::time_point now);
  void Finish(ReplyHandler done, Result<protocol::Reply> reply);

  const ClientOptions options_;
  std::optional<RequestSigner> signer_;
  const Runner run_;
  std::shared_ptr<zmq::context_t> context_;
  std::vector<zmq::socket_t> sockets_;
  int wake_ = -1;  // an eventfd: the queue has requests
  std::string id_prefix_;
  std::atomic<uint64_t> next_id_{1};
  std::thread thread_;

  std::mutex mutex_;  // guards queue_ and stopping_
  std::vector<Outgoing> queue_;
  bool stopping_ = false;

  // The hop thread's own.
  size_t next_socket_ = 0;
  std::unordered_map<std::string, Pending> pending_;
  std::multimap<Clock::time_point, std::string> deadlines_;
};

}  // namespace botmodels
