#include "gateway/broker_hop.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <map>
#include <unordered_map>
#include <zmq_addon.hpp>

#include "client/broker_watch.h"
#include "common/codec.h"
#include "common/curve_socket.h"
#include "common/zmq_frame.h"

namespace botmodels {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

// Replies taken from a lane per turn before the lane lets other work run.
constexpr int kRepliesPerTurn = 64;
// How often a lane looks for requests past their deadline.
constexpr std::chrono::milliseconds kExpireEvery{100};

Status Stopping() { return Status(ErrorCode::kUnavailable, "the gateway is stopping"); }

}  // namespace

// One DEALER socket and the requests waiting for its replies. Everything
// here runs on `strand`.
struct BrokerHop::Lane {
  Lane(net::io_context& io, zmq::context_t& context, const BrokerHop& hop)
      : hop(hop),
        context(context),
        strand(net::make_strand(io)),
        readable(strand),
        expiry(strand),
        liveness(hop.options_.failover_after) {}

  // A fresh socket to endpoints[active], watched from now on.
  Status Connect();
  // Sends a request's frames and keeps `done` for its reply, and `body` (the
  // encoded request; "" without failover) to send again on failover.
  void Send(std::string id, std::vector<std::string> frames, std::string body,
            Clock::time_point until, PartialHandler partial, ReplyHandler done);
  bool SendFrames(std::vector<std::string> frames);
  // Takes every reply ZeroMQ holds, then watches ZMQ_FD for more. ZMQ_FD
  // only signals a change: after every send, and after each signal, the
  // socket is read until it has nothing (a receive that finds nothing
  // processes ZeroMQ's pending commands, as reading ZMQ_EVENTS would, for
  // two system calls less per reply), and the wait is always armed before
  // that, so that no signal falls between the two.
  void Drain();
  void Watch();
  void Expire();
  void Fail(const Status& status);
  // Failover (ClientOptions::failover_endpoints): pings a silent broker,
  // moves on from a dead one, as Client does.
  bool failover() const { return hop.endpoints_.size() > 1; }
  void CheckBroker(Clock::time_point now);
  void MoveOn();
  void CloseSocket();

  const BrokerHop& hop;
  zmq::context_t& context;
  net::strand<net::io_context::executor_type> strand;
  zmq::socket_t socket;
  net::posix::stream_descriptor readable;  // ZMQ_FD, which ZeroMQ owns: released, not closed
  net::steady_timer expiry;
  bool watching = false;
  bool draining = false;    // a Drain() turn is posted or running
  uint64_t generation = 0;  // of the socket: a wait on a closed one is ignored
  size_t active = 0;        // hop.endpoints_[active]
  std::string endpoint;
  BrokerWatch liveness;  // of the broker, with failover
  uint64_t sent = 0;
  struct Pending {
    PartialHandler partial;  // null: partial replies are dropped
    ReplyHandler done;
    std::multimap<Clock::time_point, std::string>::iterator deadline;
    std::string body;       // kept to send again on failover; "" without failover
    uint64_t order = 0;     // sending order
    bool partials = false;  // a partial reply came: not sent again
  };
  std::unordered_map<std::string, Pending> pending;
  std::multimap<Clock::time_point, std::string> deadlines;
};

Status BrokerHop::Lane::Connect() {
  socket = zmq::socket_t(context, zmq::socket_type::dealer);
  socket.set(zmq::sockopt::linger, 0);
  socket.set(zmq::sockopt::maxmsgsize, hop.options_.max_message_bytes);
  if (hop.options_.curve_key) {
    BOTMODELS_RETURN_IF_ERROR(
        MakeCurveClient(socket, *hop.options_.curve_key, hop.options_.curve_server_key));
  }
  endpoint = hop.endpoints_[active];
  socket.connect(endpoint);
  readable.assign(socket.get(zmq::sockopt::fd));
  ++generation;
  return Status();
}

void BrokerHop::Lane::CloseSocket() {
  boost::system::error_code ignored;
  readable.cancel(ignored);
  readable.release();  // ZeroMQ closes its own descriptor
  watching = false;
  socket.close();
}

bool BrokerHop::Lane::SendFrames(std::vector<std::string> frames) {
  bool sent = true;
  try {
    for (size_t i = 0; i < frames.size() && sent; ++i) {
      const bool last = i + 1 == frames.size();
      sent = socket
                 .send(FrameOf(std::move(frames[i])),
                       (last ? zmq::send_flags::none : zmq::send_flags::sndmore) |
                           zmq::send_flags::dontwait)
                 .has_value();
    }
  } catch (const zmq::error_t& e) {
    spdlog::error("broker hop: send failed: {}", e.what());
    sent = false;
  }
  return sent;
}

void BrokerHop::Lane::Send(std::string id, std::vector<std::string> frames, std::string body,
                           Clock::time_point until, PartialHandler partial, ReplyHandler done) {
  if (failover()) liveness.Sent(pending.empty(), Clock::now());
  if (!SendFrames(std::move(frames))) {  // the broker is gone and the queue is full
    done(Status(ErrorCode::kUnavailable, "the broker at " + endpoint + " takes no requests"));
  } else {
    const auto deadline = deadlines.emplace(until, id);
    pending[std::move(id)] = {std::move(partial), std::move(done), deadline, std::move(body),
                              ++sent};
  }
  Drain();  // sending may have taken ZMQ_FD's signal for a reply
}

void BrokerHop::Lane::CheckBroker(Clock::time_point now) {
  if (pending.empty()) return;
  switch (liveness.Check(now)) {
    case BrokerWatch::Action::kWait:
      return;
    case BrokerWatch::Action::kMoveOn:
      return MoveOn();
    case BrokerWatch::Action::kPing:
      SendFrames(hop.Sign(codec::EncodeRequest(liveness.Ping(hop.NextId(), now))));
  }
}

void BrokerHop::Lane::MoveOn() {
  const std::string dead = endpoint;
  CloseSocket();  // with what it still queued: a broker only slow cannot answer twice
  active = (active + 1) % hop.endpoints_.size();
  if (Status s = Connect(); !s.ok()) {
    spdlog::error("broker hop: {}", s.message());
    return Fail(s);
  }
  spdlog::warn("broker {} silent for {} ms: sending its {} unanswered requests to {}", dead,
               hop.options_.failover_after.count(), pending.size(), endpoint);
  liveness.Reset(Clock::now());
  std::vector<std::pair<uint64_t, std::string>> order;
  for (const auto& [id, p] : pending) order.emplace_back(p.order, id);
  std::sort(order.begin(), order.end());
  for (const auto& [n, id] : order) {
    auto it = pending.find(id);
    if (!it->second.partials && SendFrames(hop.Sign(it->second.body))) continue;
    deadlines.erase(it->second.deadline);
    ReplyHandler done = std::move(it->second.done);
    pending.erase(it);
    done(Status(ErrorCode::kUnavailable,
                "broker " + dead + " stopped answering in the middle of this stream"));
  }
  Watch();
  Drain();
}

void BrokerHop::Lane::Drain() {
  for (int n = 0; n < kRepliesPerTurn; ++n) {
    std::vector<zmq::message_t> frames;
    if (!zmq::recv_multipart(socket, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
      return;  // nothing more: ZeroMQ's commands are processed, ZMQ_FD re-armed
    }
    if (failover()) liveness.Heard(Clock::now());
    if (frames.size() != 1) continue;  // not a broker reply
    auto reply = codec::DecodeReply(frames[0].to_string_view());
    if (!reply.ok() || !reply->id || liveness.IsPingReply(*reply->id)) continue;
    const auto it = pending.find(*reply->id);
    if (it == pending.end()) continue;  // late: its caller was answered already
    if (reply->more) {
      it->second.partials = true;
      try {
        if (it->second.partial) it->second.partial(std::move(*reply));
      } catch (const std::exception& e) {
        spdlog::error("broker hop: a partial reply's handler failed: {}", e.what());
      }
      continue;
    }
    deadlines.erase(it->second.deadline);
    ReplyHandler done = std::move(it->second.done);
    pending.erase(it);
    try {
      done(std::move(*reply));
    } catch (const std::exception& e) {
      spdlog::error("broker hop: a reply's handler failed: {}", e.what());
    }
  }
  // More replies wait: let other work on this thread run first.
  if (!draining) {
    draining = true;
    net::post(strand, [this] {
      draining = false;
      Drain();
    });
  }
}

void BrokerHop::Lane::Watch() {
  if (watching) return;
  watching = true;
  readable.async_wait(net::posix::stream_descriptor::wait_read,
                      [this, socket_generation = generation](boost::system::error_code ec) {
                        if (socket_generation != generation) return;  // a closed socket's
                        watching = false;
                        if (ec) return;  // cancelled: stopping
                        Watch();         // armed again before ZMQ_EVENTS is read
                        Drain();
                      });
}

void BrokerHop::Lane::Expire() {
  const Clock::time_point now = Clock::now();
  while (!deadlines.empty() && deadlines.begin()->first <= now) {
    const auto it = pending.find(deadlines.begin()->second);
    deadlines.erase(deadlines.begin());
    if (it == pending.end()) continue;
    ReplyHandler done = std::move(it->second.done);
    pending.erase(it);
    done(Status(ErrorCode::kUnavailable, "no reply from the broker at " + endpoint +
                                             " by the request's deadline (is it running?)"));
  }
  if (failover()) CheckBroker(now);
  expiry.expires_after(kExpireEvery);
  expiry.async_wait([this](boost::system::error_code ec) {
    if (!ec) Expire();
  });
}

void BrokerHop::Lane::Fail(const Status& status) {
  for (auto& [id, waiting] : pending) waiting.done(status);
  pending.clear();
  deadlines.clear();
}

BrokerHop::BrokerHop(ClientOptions options, size_t lanes, net::io_context& io)
    : options_(std::move(options)),
      context_(options_.context ? options_.context : std::make_shared<zmq::context_t>(1)),
      id_prefix_("gw" + std::to_string(getpid()) + "-") {
  if (!options_.secret.empty()) signer_.emplace(options_.key_id, options_.secret);
  endpoints_.push_back(options_.endpoint);
  for (const std::string& e : options_.failover_endpoints) endpoints_.push_back(e);
  for (size_t i = 0; i < std::max<size_t>(lanes, 1); ++i) {
    lanes_.push_back(std::make_unique<Lane>(io, *context_, *this));
  }
}

std::string BrokerHop::NextId() const { return id_prefix_ + std::to_string(next_id_++); }

std::vector<std::string> BrokerHop::Sign(std::string body) const {
  return SignRequestFrames(signer_ ? &*signer_ : nullptr, std::move(body));
}

BrokerHop::~BrokerHop() { Stop(); }

Status BrokerHop::Start() {
  for (auto& lane : lanes_) {
    BOTMODELS_RETURN_IF_ERROR(lane->Connect());
    Lane* l = lane.get();
    net::dispatch(l->strand, [l] {
      l->Watch();
      l->Drain();
      l->Expire();
    });
  }
  running_ = true;
  return Status();
}

void BrokerHop::Stop() {
  if (!running_.exchange(false)) return;
  for (auto& lane : lanes_) {
    lane->expiry.cancel();
    lane->Fail(Stopping());
    lane->CloseSocket();
  }
}

void BrokerHop::Call(protocol::Request request, std::chrono::milliseconds timeout,
                     ReplyHandler done) {
  Stream(std::move(request), timeout, nullptr, std::move(done));
}

void BrokerHop::Stream(protocol::Request request, std::chrono::milliseconds timeout,
                       PartialHandler partial, ReplyHandler done) {
  if (!running_) return done(Stopping());
  request.stream = partial != nullptr;
  request.timeout_ms = static_cast<uint32_t>(timeout.count());
  if (request.id.empty()) request.id = NextId();
  std::string body = codec::EncodeRequest(request);
  if (body.size() > static_cast<uint64_t>(options_.max_message_bytes)) {
    return done(InvalidRequest("the request takes " + std::to_string(body.size()) +
                               " bytes, over the broker's max_message_bytes = " +
                               std::to_string(options_.max_message_bytes)));
  }
  Lane* lane = lanes_[next_lane_++ % lanes_.size()].get();
  // Inline when this I/O thread can take the lane's strand now.
  // Signed here, on the caller's thread; the body is kept only to fail over.
  std::string kept = endpoints_.size() > 1 ? body : std::string();
  net::dispatch(lane->strand, [lane, id = std::move(request.id), frames = Sign(std::move(body)),
                               kept = std::move(kept), until = Clock::now() + timeout + kReplySlack,
                               partial = std::move(partial), done = std::move(done)]() mutable {
    lane->Send(std::move(id), std::move(frames), std::move(kept), until, std::move(partial),
               std::move(done));
  });
}

}  // namespace botmodels
