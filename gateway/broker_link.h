#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace botmodels {

// The strand a BrokerHop lane runs on.
using LaneStrand = boost::asio::strand<boost::asio::io_context::executor_type>;

// One connection from a BrokerHop lane to a broker's frontend (a ROUTER),
// as a ZeroMQ DEALER: sends a request's frames, hands each message that
// comes back to the lane. Everything runs on the lane's strand: each call
// is made there and the handler is called there. Two kinds: ZmtpLink
// speaks ZeroMQ's wire protocol itself on the strand; ZmqLink goes through
// libzmq (for CURVE, and transports other than tcp:// and ipc://).
class BrokerLink {
 public:
  // A message's frames, valid during the call. It must not call Close().
  using MessageHandler = std::function<void(std::span<const std::string_view> frames)>;

  virtual ~BrokerLink() = default;

  // Connects to `endpoint` and stays connected, reconnecting whenever the
  // connection drops, until Close(). Messages sent before the connection
  // is up wait in its queue. Fails only when the link cannot be set up at
  // all (a malformed endpoint, CURVE keys).
  virtual Status Open(const std::string& endpoint) = 0;
  // Queues one message (it goes out in order); false when the queue is
  // full: the broker has been unreachable for ZeroMQ's high-water mark of
  // messages. It may hand out messages that were waiting before it
  // returns (ZmqLink does): whatever a reply needs must be in place first.
  virtual bool Send(std::vector<std::string> frames) = 0;
  // Drops the connection and the messages it still queued; no message is
  // handed out after it. Open() may follow, to the same or another broker.
  virtual void Close() = 0;
};

}  // namespace botmodels
