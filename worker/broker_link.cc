#include "worker/broker_link.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <stdexcept>
#include <zmq_addon.hpp>

#include "common/codec.h"
#include "common/curve_socket.h"
#include "common/zmq_frame.h"

namespace botmodels {

namespace {

namespace wm = protocol::worker_msg;

constexpr size_t kRoutingIdBytes = 16;  // 128 random bits

}  // namespace

BrokerLink::BrokerLink(zmq::context_t& context, std::string endpoint, protocol::WorkerHello hello,
                       LinkSecurity security, std::chrono::milliseconds heartbeat,
                       std::chrono::milliseconds liveness, const Clock& clock)
    : context_(context),
      endpoint_(std::move(endpoint)),
      hello_(std::move(hello)),
      security_(std::move(security)),
      heartbeat_(heartbeat),
      liveness_(liveness),
      clock_(clock) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialize");
}

void BrokerLink::Connect() {
  socket_ = zmq::socket_t(context_, zmq::socket_type::dealer);
  constexpr int kLingerMs = 1000;  // on close, wait this long to flush final replies
  socket_.set(zmq::sockopt::linger, kLingerMs);
  socket_.set(zmq::sockopt::maxmsgsize, security_.max_message_bytes);
  // An unguessable routing id per connection: the ROUTER's own ids count up,
  // so a peer could otherwise claim this worker's id once it disconnects.
  std::string routing_id(1 + kRoutingIdBytes, 'w');  // non-zero first byte: peer-chosen
  randombytes_buf(routing_id.data() + 1, kRoutingIdBytes);
  socket_.set(zmq::sockopt::routing_id, zmq::buffer(routing_id));
  if (security_.curve_key) {
    if (Status s = MakeCurveClient(socket_, *security_.curve_key, security_.curve_server_key);
        !s.ok()) {
      throw std::runtime_error(s.message());
    }
  }
  socket_.connect(endpoint_);
  const std::string hello = codec::EncodeHello(hello_);
  if (security_.signer) {
    const std::string header =
        codec::EncodeAuthHeader(security_.signer->NewHeader(std::chrono::system_clock::now()));
    SendFrames({wm::kRegister, header, hello, security_.signer->Sign(header, hello)});
  } else {
    SendFrames({wm::kRegister, hello});
  }
  if (last_state_) SendFrames({wm::kState, *last_state_});
  last_heard_ = clock_.Now();
  register_due_ = false;
}

std::optional<Job> BrokerLink::Receive() {
  std::vector<zmq::message_t>& frames = frames_;
  frames.clear();
  if (!zmq::recv_multipart(socket_, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
    return std::nullopt;
  }
  last_heard_ = clock_.Now();
  const std::string_view type = frames.empty() ? "" : frames[0].to_string_view();
  if (type == wm::kRequest && frames.size() == 3) {
    auto header = codec::DecodeJobHeader(frames[1].to_string_view());
    if (!header.ok()) {
      spdlog::error("dropping a request with a bad job header: {}", header.status().message());
      return std::nullopt;
    }
    Job job{*header, std::move(frames[2]), Clock::TimePoint::max()};
    if (header->budget_ms > 0)
      job.deadline = clock_.Now() + std::chrono::milliseconds(header->budget_ms);
    return job;
  }
  if (type == wm::kDisconnect) {
    // Re-register on the next Tick, not at once: a broker that refuses this
    // worker (a model it does not serve) must not be answered in a tight loop.
    spdlog::warn("the broker does not know this worker: registering again");
    register_due_ = true;
  } else if (type != wm::kHeartbeat) {
    spdlog::error("ignoring an unknown message from the broker ({} frames)", frames.size());
  }
  return std::nullopt;
}

void BrokerLink::Send(JobReply reply) {
  const std::string header = codec::EncodeJobHeader({.ticket = reply.ticket,
                                                     .code = std::string(ErrorCodeName(reply.code)),
                                                     .batch = reply.batch_rows,
                                                     .more = reply.more});
  socket_.send(zmq::buffer(wm::kReply), zmq::send_flags::sndmore);
  socket_.send(zmq::buffer(header), zmq::send_flags::sndmore);
  socket_.send(FrameOf(std::move(reply.body)), zmq::send_flags::none);
  last_sent_ = clock_.Now();
}

void BrokerLink::Send(const StateChange& change) {
  last_state_ = codec::EncodeWorkerState(change.state);
  SendFrames({wm::kState, *last_state_});
}

void BrokerLink::Send(const protocol::WorkerMemory& memory) {
  SendFrames({wm::kMemory, codec::EncodeWorkerMemory(memory)});
}

void BrokerLink::Send(const CreditChange& change) {
  hello_.capacity = change.capacity;
  SendFrames({wm::kCredit, codec::EncodeWorkerCredit({change.capacity})});
}

std::chrono::milliseconds BrokerLink::Tick() {
  const auto now = clock_.Now();
  if (now - last_heard_ >= liveness_) {
    spdlog::warn("no word from the broker for {} ms: reconnecting", liveness_.count());
    Connect();
  } else if (register_due_ && now - last_sent_ >= heartbeat_) {
    Connect();
  }
  if (now - last_sent_ >= heartbeat_) SendFrames({wm::kHeartbeat});
  const auto next = last_sent_ + heartbeat_ - clock_.Now();
  return std::max(std::chrono::milliseconds(1),
                  std::chrono::duration_cast<std::chrono::milliseconds>(next));
}

void BrokerLink::SendFrames(std::initializer_list<std::string_view> frames) {
  size_t i = 0;
  for (std::string_view f : frames) {
    const auto flags = ++i < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none;
    socket_.send(zmq::buffer(f), flags);
  }
  last_sent_ = clock_.Now();
}

}  // namespace botmodels
