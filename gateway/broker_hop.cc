#include "gateway/broker_hop.h"

#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <zmq_addon.hpp>

#include "common/codec.h"
#include "common/curve_socket.h"
#include "common/zmq_frame.h"

namespace botmodels {
namespace {

// Replies taken from one socket per wake-up, so that a busy socket cannot
// starve the others or the send queue.
constexpr int kRepliesPerTurn = 256;

Status Unreachable(const std::string& endpoint) {
  return Status(ErrorCode::kUnavailable, "no reply from the broker at " + endpoint +
                                             " by the request's deadline (is it running?)");
}

}  // namespace

BrokerHop::BrokerHop(ClientOptions options, size_t sockets, Runner run)
    : options_(std::move(options)),
      run_(std::move(run)),
      context_(options_.context ? options_.context : std::make_shared<zmq::context_t>(1)),
      id_prefix_("gw" + std::to_string(getpid()) + "-") {
  if (!options_.secret.empty()) signer_.emplace(options_.key_id, options_.secret);
  for (size_t i = 0; i < std::max<size_t>(sockets, 1); ++i) {
    sockets_.emplace_back(*context_, zmq::socket_type::dealer);
  }
}

BrokerHop::~BrokerHop() {
  Stop();
  if (wake_ >= 0) ::close(wake_);
}

Status BrokerHop::Start() {
  wake_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_ < 0) return Status(ErrorCode::kInternal, "broker hop: eventfd failed");
  for (zmq::socket_t& socket : sockets_) {
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::maxmsgsize, options_.max_message_bytes);
    if (options_.curve_key) {
      BOTMODELS_RETURN_IF_ERROR(
          MakeCurveClient(socket, *options_.curve_key, options_.curve_server_key));
    }
    socket.connect(options_.endpoint);
  }
  thread_ = std::thread([this] { Loop(); });
  return Status();
}

void BrokerHop::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || !thread_.joinable()) return;
    stopping_ = true;
  }
  const uint64_t one = 1;
  (void)!::write(wake_, &one, sizeof one);
  thread_.join();
}

void BrokerHop::Call(protocol::Request request, std::chrono::milliseconds timeout,
                     ReplyHandler done) {
  request.timeout_ms = static_cast<uint32_t>(timeout.count());
  if (request.id.empty()) request.id = id_prefix_ + std::to_string(next_id_++);
  std::string body = codec::EncodeRequest(request);
  if (body.size() > static_cast<uint64_t>(options_.max_message_bytes)) {
    return Finish(std::move(done),
                  InvalidRequest("the request takes " + std::to_string(body.size()) +
                                 " bytes, over the broker's max_message_bytes = " +
                                 std::to_string(options_.max_message_bytes)));
  }
  Outgoing out{std::move(request.id),
               SignRequestFrames(signer_ ? &*signer_ : nullptr, std::move(body)),
               Clock::now() + timeout + kReplySlack, std::move(done)};
  bool queued = false, wake = false;
  {
    std::lock_guard lock(mutex_);
    if (!stopping_ && thread_.joinable()) {
      wake = queue_.empty();  // a queue with requests has woken the thread already
      queue_.push_back(std::move(out));
      queued = true;
    }
  }
  if (!queued) {
    return Finish(std::move(out.done), Status(ErrorCode::kUnavailable, "the gateway is stopping"));
  }
  if (wake) {
    const uint64_t one = 1;
    (void)!::write(wake_, &one, sizeof one);
  }
}

void BrokerHop::Finish(ReplyHandler done, Result<protocol::Reply> reply) {
  run_([done = std::move(done), reply = std::move(reply)]() mutable { done(std::move(reply)); });
}

void BrokerHop::Loop() {
  std::vector<zmq::pollitem_t> items;
  for (zmq::socket_t& socket : sockets_) items.push_back({socket.handle(), 0, ZMQ_POLLIN, 0});
  items.push_back({nullptr, wake_, ZMQ_POLLIN, 0});
  while (true) {
    long wait_ms = -1;
    if (!deadlines_.empty()) {
      wait_ms = std::max<long>(
          0, std::chrono::ceil<std::chrono::milliseconds>(deadlines_.begin()->first - Clock::now())
                 .count());
    }
    try {
      zmq::poll(items.data(), items.size(), std::chrono::milliseconds(wait_ms));
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) spdlog::error("broker hop: poll failed: {}", e.what());
      continue;
    }
    if (items.back().revents & ZMQ_POLLIN) {
      uint64_t count = 0;
      (void)!::read(wake_, &count, sizeof count);
      {
        std::lock_guard lock(mutex_);
        if (stopping_) break;
      }
      SendQueued();
    }
    for (size_t i = 0; i < sockets_.size(); ++i) {
      if (items[i].revents & ZMQ_POLLIN) Receive(sockets_[i]);
    }
    Expire(Clock::now());
  }
  // Stopping: whatever waits is answered.
  std::vector<Outgoing> queued;
  {
    std::lock_guard lock(mutex_);
    queued.swap(queue_);
  }
  const Status stopping(ErrorCode::kUnavailable, "the gateway is stopping");
  for (Outgoing& out : queued) Finish(std::move(out.done), stopping);
  for (auto& [id, pending] : pending_) Finish(std::move(pending.done), stopping);
  pending_.clear();
  deadlines_.clear();
}

void BrokerHop::SendQueued() {
  std::vector<Outgoing> queued;
  {
    std::lock_guard lock(mutex_);
    queued.swap(queue_);
  }
  for (Outgoing& out : queued) {
    zmq::socket_t& socket = sockets_[next_socket_++ % sockets_.size()];
    bool sent = true;
    try {
      for (size_t i = 0; i < out.frames.size() && sent; ++i) {
        const bool last = i + 1 == out.frames.size();
        sent = socket
                   .send(FrameOf(std::move(out.frames[i])),
                         (last ? zmq::send_flags::none : zmq::send_flags::sndmore) |
                             zmq::send_flags::dontwait)
                   .has_value();
      }
    } catch (const zmq::error_t& e) {
      spdlog::error("broker hop: send failed: {}", e.what());
      sent = false;
    }
    if (!sent) {  // the broker is gone and the socket's queue is full
      Finish(std::move(out.done),
             Status(ErrorCode::kUnavailable,
                    "the broker at " + options_.endpoint + " takes no requests"));
      continue;
    }
    const auto deadline = deadlines_.emplace(out.until, out.id);
    pending_[std::move(out.id)] = {std::move(out.done), deadline};
  }
}

void BrokerHop::Receive(zmq::socket_t& socket) {
  for (int n = 0; n < kRepliesPerTurn; ++n) {
    std::vector<zmq::message_t> frames;
    if (!zmq::recv_multipart(socket, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
      return;
    }
    if (frames.size() != 1) continue;  // not a broker reply
    auto reply = codec::DecodeReply(frames[0].to_string_view());
    if (!reply.ok() || !reply->id || reply->more) continue;  // partial replies are not asked for
    const auto it = pending_.find(*reply->id);
    if (it == pending_.end()) continue;  // late: its caller was answered already
    deadlines_.erase(it->second.deadline);
    ReplyHandler done = std::move(it->second.done);
    pending_.erase(it);
    Finish(std::move(done), std::move(*reply));
  }
}

void BrokerHop::Expire(Clock::time_point now) {
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    const auto it = pending_.find(deadlines_.begin()->second);
    deadlines_.erase(deadlines_.begin());
    if (it == pending_.end()) continue;
    ReplyHandler done = std::move(it->second.done);
    pending_.erase(it);
    Finish(std::move(done), Unreachable(options_.endpoint));
  }
}

}  // namespace botmodels
