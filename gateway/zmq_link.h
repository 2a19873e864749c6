#pragma once

#include <boost/asio/posix/stream_descriptor.hpp>
#include <zmq.hpp>

#include "client/client.h"
#include "gateway/broker_link.h"

namespace botmodels {

// A BrokerLink through libzmq: a DEALER socket whose ZMQ_FD the lane's
// strand watches, so that nothing waits on a thread of its own. libzmq
// moves the bytes on its I/O thread. Used with CURVE and for transports
// ZmtpLink does not speak. Runs on the lane's strand; not thread-safe.
class ZmqLink : public BrokerLink {
 public:
  // `options`: max_message_bytes and CURVE keys; must outlive the link.
  ZmqLink(zmq::context_t& context, const ClientOptions& options, LaneStrand strand,
          MessageHandler handler);
  ~ZmqLink() override { Close(); }

  Status Open(const std::string& endpoint) override;
  bool Send(std::vector<std::string> frames) override;
  void Close() override;

 private:
  // Takes every message ZeroMQ holds, then watches ZMQ_FD for more. ZMQ_FD
  // only signals a change: after every send, and after each signal, the
  // socket is read until it has nothing (a receive that finds nothing
  // processes ZeroMQ's pending commands, as reading ZMQ_EVENTS would, for
  // two system calls less per reply), and the wait is always armed before
  // that, so that no signal falls between the two.
  void Drain();
  void Watch();

  zmq::context_t& context_;
  const ClientOptions& options_;
  LaneStrand strand_;
  MessageHandler handler_;
  zmq::socket_t socket_;
  boost::asio::posix::stream_descriptor readable_;  // ZMQ_FD, which ZeroMQ owns: released
  bool watching_ = false;
  bool draining_ = false;    // a Drain() turn is posted or running
  uint64_t generation_ = 0;  // of the socket: a wait on a closed one is ignored
};

}  // namespace botmodels
