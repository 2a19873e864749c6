#include "gateway/broker_hop.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <map>
#include <unordered_map>

#include "client/broker_watch.h"
#include "common/codec.h"
#include "gateway/zmq_link.h"
#include "gateway/zmtp/zmtp_link.h"

namespace botmodels {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

// How often a lane looks for requests past their deadline.
constexpr std::chrono::milliseconds kExpireEvery{100};

Status Stopping() { return Status(ErrorCode::kUnavailable, "the gateway is stopping"); }

}  // namespace

// One link to the broker and the requests waiting for its replies.
// Everything here runs on `strand`.
struct BrokerHop::Lane {
  Lane(net::io_context& io, zmq::context_t& context, const BrokerHop& hop)
      : hop(hop),
        strand(net::make_strand(io)),
        expiry(strand),
        liveness(hop.options_.failover_after) {
    auto on_message = [this](std::span<const std::string_view> frames) { Receive(frames); };
    const bool native = hop.link_ == BrokerLinkKind::kNative && !hop.options_.curve_key &&
                        std::all_of(hop.endpoints_.begin(), hop.endpoints_.end(), ZmtpLink::Speaks);
    if (native) {
      link = std::make_unique<ZmtpLink>(strand, hop.options_.max_message_bytes, on_message);
    } else {
      link = std::make_unique<ZmqLink>(context, hop.options_, strand, on_message);
    }
  }

  // Sends a request's frames and keeps `done` for its reply, and `body` (the
  // encoded request; "" without failover) to send again on failover.
  void Send(std::string id, std::vector<std::string> frames, std::string body,
            Clock::time_point until, PartialHandler partial, ReplyHandler done);
  // A message from the broker: a reply, or a partial reply, to a request.
  void Receive(std::span<const std::string_view> frames);
  void Expire();
  void Fail(const Status& status);
  // Failover (ClientOptions::failover_endpoints): pings a silent broker,
  // moves on from a dead one, as Client does.
  bool failover() const { return hop.endpoints_.size() > 1; }
  void CheckBroker(Clock::time_point now);
  void MoveOn();

  const BrokerHop& hop;
  LaneStrand strand;
  std::unique_ptr<BrokerLink> link;
  net::steady_timer expiry;
  size_t active = 0;     // hop.endpoints_[active]
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

void BrokerHop::Lane::Send(std::string id, std::vector<std::string> frames, std::string body,
                           Clock::time_point until, PartialHandler partial, ReplyHandler done) {
  if (failover()) liveness.Sent(pending.empty(), Clock::now());
  // Kept before it is sent: sending may hand out replies (ZmqLink reads
  // what waits), and under load this request's own may be among them.
  const auto deadline = deadlines.emplace(until, id);
  pending[id] = {std::move(partial), std::move(done), deadline, std::move(body), ++sent};
  if (link->Send(std::move(frames))) return;
  const auto it = pending.find(id);  // the broker is gone and the queue is full
  if (it == pending.end()) return;
  deadlines.erase(it->second.deadline);
  ReplyHandler failed = std::move(it->second.done);
  pending.erase(it);
  failed(Status(ErrorCode::kUnavailable,
                "the broker at " + hop.endpoints_[active] + " takes no requests"));
}

void BrokerHop::Lane::CheckBroker(Clock::time_point now) {
  if (pending.empty()) return;
  switch (liveness.Check(now)) {
    case BrokerWatch::Action::kWait:
      return;
    case BrokerWatch::Action::kMoveOn:
      return MoveOn();
    case BrokerWatch::Action::kPing:
      link->Send(hop.Sign(codec::EncodeRequest(liveness.Ping(hop.NextId(), now))));
  }
}

void BrokerHop::Lane::MoveOn() {
  const std::string dead = hop.endpoints_[active];
  link->Close();  // with what it still queued: a broker only slow cannot answer twice
  active = (active + 1) % hop.endpoints_.size();
  if (Status s = link->Open(hop.endpoints_[active]); !s.ok()) {
    spdlog::error("broker hop: {}", s.message());
    return Fail(s);
  }
  spdlog::warn("broker {} silent for {} ms: sending its {} unanswered requests to {}", dead,
               hop.options_.failover_after.count(), pending.size(), hop.endpoints_[active]);
  liveness.Reset(Clock::now());
  std::vector<std::pair<uint64_t, std::string>> order;
  for (const auto& [id, p] : pending) order.emplace_back(p.order, id);
  std::sort(order.begin(), order.end());
  for (const auto& [n, id] : order) {
    auto it = pending.find(id);
    if (it == pending.end()) continue;  // answered while the others were sent
    if (!it->second.partials) {
      if (link->Send(hop.Sign(it->second.body))) continue;
      if ((it = pending.find(id)) == pending.end()) continue;
    }
    deadlines.erase(it->second.deadline);
    ReplyHandler done = std::move(it->second.done);
    pending.erase(it);
    done(Status(ErrorCode::kUnavailable,
                "broker " + dead + " stopped answering in the middle of this stream"));
  }
}

void BrokerHop::Lane::Receive(std::span<const std::string_view> frames) {
  if (failover()) liveness.Heard(Clock::now());
  if (frames.size() != 1) return;  // not a broker reply
  auto reply = codec::DecodeReply(frames[0]);
  if (!reply.ok() || !reply->id || liveness.IsPingReply(*reply->id)) return;
  const auto it = pending.find(*reply->id);
  if (it == pending.end()) return;  // late: its caller was answered already
  if (reply->more) {
    it->second.partials = true;
    try {
      if (it->second.partial) it->second.partial(std::move(*reply));
    } catch (const std::exception& e) {
      spdlog::error("broker hop: a partial reply's handler failed: {}", e.what());
    }
    return;
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

void BrokerHop::Lane::Expire() {
  const Clock::time_point now = Clock::now();
  while (!deadlines.empty() && deadlines.begin()->first <= now) {
    const auto it = pending.find(deadlines.begin()->second);
    deadlines.erase(deadlines.begin());
    if (it == pending.end()) continue;
    ReplyHandler done = std::move(it->second.done);
    pending.erase(it);
    done(Status(ErrorCode::kUnavailable, "no reply from the broker at " + hop.endpoints_[active] +
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

BrokerHop::BrokerHop(ClientOptions options, size_t lanes, net::io_context& io, BrokerLinkKind link)
    : options_(std::move(options)),
      link_(link),
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
    // Not on the strand: nothing else touches the link before running_.
    BOTMODELS_RETURN_IF_ERROR(lane->link->Open(endpoints_[0]));
    Lane* l = lane.get();
    net::dispatch(l->strand, [l] { l->Expire(); });
  }
  running_ = true;
  return Status();
}

void BrokerHop::Stop() {
  if (!running_.exchange(false)) return;
  for (auto& lane : lanes_) {
    lane->expiry.cancel();
    lane->Fail(Stopping());
    lane->link->Close();
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
