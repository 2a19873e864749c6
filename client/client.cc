#include "client/client.h"

#include <unistd.h>

#include <algorithm>
#include <stdexcept>
#include <zmq_addon.hpp>

#include "common/codec.h"
#include "common/curve_socket.h"
#include "common/zmq_frame.h"

namespace botmodels {

Client::Client(ClientOptions options)
    : options_(std::move(options)),
      context_(options_.context ? options_.context : std::make_shared<zmq::context_t>(1)),
      id_prefix_(std::to_string(getpid()) + "-"),
      watch_(options_.failover_after) {
  if (!options_.secret.empty()) signer_.emplace(options_.key_id, options_.secret);
  endpoints_.push_back(options_.endpoint);
  for (const std::string& e : options_.failover_endpoints) endpoints_.push_back(e);
  Connect();
}

void Client::Connect() {
  socket_ = zmq::socket_t(*context_, zmq::socket_type::dealer);
  socket_.set(zmq::sockopt::linger, 0);  // unsent requests die with the client (or socket)
  socket_.set(zmq::sockopt::maxmsgsize, options_.max_message_bytes);
  if (options_.curve_key) {
    if (botmodels::Status s =
            MakeCurveClient(socket_, *options_.curve_key, options_.curve_server_key);
        !s.ok()) {
      throw std::runtime_error(s.message());
    }
  }
  socket_.connect(endpoints_[active_]);
}

std::string Client::NextId() { return id_prefix_ + std::to_string(next_id_++); }

std::vector<std::string> SignRequestFrames(const RequestSigner* signer, std::string body) {
  protocol::AuthHeader header;
  if (signer) {
    header = signer->NewHeader(std::chrono::system_clock::now());
  } else {
    header.nonce.assign(protocol::kMinNonceBytes, '\0');  // unchecked without auth
  }
  std::string header_bytes = codec::EncodeAuthHeader(header);
  std::string signature = signer ? signer->Sign(header_bytes, body) : std::string();
  return {std::move(header_bytes), std::move(body), std::move(signature)};
}

std::vector<std::string> Client::SignedFrames(std::string body) const {
  return SignRequestFrames(signer_ ? &*signer_ : nullptr, std::move(body));
}

void Client::SendFrames(std::vector<std::string> frames) {
  for (size_t i = 0; i < frames.size(); ++i) {
    socket_.send(FrameOf(std::move(frames[i])),  // the encoded body is not copied again
                 i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
}

std::string Client::Send(protocol::Request request) {
  if (request.id.empty()) request.id = NextId();
  SendBody(request.id, codec::EncodeRequest(request));
  return request.id;
}

void Client::SendBody(const std::string& id, std::string body) {
  if (failover()) {
    watch_.Sent(unanswered_.empty(), std::chrono::steady_clock::now());
    unanswered_[id] = {++sent_, body, false};
  }
  SendFrames(SignedFrames(std::move(body)));
}

bool Client::Settle(const protocol::Reply& reply) {
  if (!reply.id) return true;
  if (watch_.IsPingReply(*reply.id)) return false;  // ours
  if (auto it = unanswered_.find(*reply.id); it != unanswered_.end()) {
    if (reply.more) {
      it->second.partials = true;
    } else {
      unanswered_.erase(it);
    }
  }
  return true;
}

void Client::CheckBroker(SteadyTime now) {
  if (unanswered_.empty()) return;
  switch (watch_.Check(now)) {
    case BrokerWatch::Action::kWait:
      return;
    case BrokerWatch::Action::kMoveOn:
      return MoveOn();
    case BrokerWatch::Action::kPing:
      SendFrames(SignedFrames(codec::EncodeRequest(watch_.Ping("ping-" + NextId(), now))));
  }
}

void Client::MoveOn() {
  const std::string dead = endpoints_[active_];
  active_ = (active_ + 1) % endpoints_.size();
  ++failovers_;
  Connect();  // the dead broker's socket, and what it still queued, are gone
  watch_.Reset(std::chrono::steady_clock::now());
  std::vector<std::pair<uint64_t, std::string>> order;
  for (const auto& [id, u] : unanswered_) order.emplace_back(u.order, id);
  std::sort(order.begin(), order.end());
  for (const auto& [n, id] : order) {
    Unanswered& u = unanswered_.at(id);
    if (!u.partials) {
      SendFrames(SignedFrames(u.body));
      continue;
    }
    local_replies_.push_back(protocol::ErrorReply(
        id, {ErrorCode::kUnavailable, "broker " + dead +
                                          " stopped answering in the middle of this stream; "
                                          "not sent again, as its pieces would repeat"}));
    unanswered_.erase(id);
  }
}

std::optional<protocol::Reply> Client::Receive(std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (!local_replies_.empty()) {
      protocol::Reply reply = std::move(local_replies_.front());
      local_replies_.pop_front();
      return reply;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (failover() && !unanswered_.empty()) {  // wake to ping, or to move on
      left = std::min(left, watch_.tick());
    }
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    try {
      zmq::poll(&item, 1, std::max(left, std::chrono::milliseconds(0)));
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
    }
    const auto now = std::chrono::steady_clock::now();
    if (!(item.revents & ZMQ_POLLIN)) {
      if (failover()) CheckBroker(now);
      if (now >= until && local_replies_.empty()) return std::nullopt;
      continue;
    }
    std::vector<zmq::message_t> frames;
    if (!zmq::recv_multipart(socket_, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
      continue;
    }
    watch_.Heard(now);
    if (frames.size() != 1) continue;  // not a broker reply
    auto reply = codec::DecodeReply(frames[0].to_string_view());
    if (!reply.ok() || (failover() && !Settle(*reply))) continue;
    return std::move(*reply);
  }
}

Result<protocol::Reply> Client::Call(protocol::Request request) {
  return Stream(std::move(request), nullptr);
}

Result<protocol::Reply> Client::Stream(protocol::Request request,
                                       const PartialHandler& on_partial) {
  if (on_partial) request.stream = true;
  if (request.id.empty()) request.id = NextId();
  const std::string& id = request.id;
  std::string body = codec::EncodeRequest(request);
  if (body.size() > static_cast<uint64_t>(options_.max_message_bytes)) {
    return InvalidRequest(
        "the request takes " + std::to_string(body.size()) +
        " bytes, over the limit max_message_bytes = " + std::to_string(options_.max_message_bytes));
  }
  SendBody(id, std::move(body));
  auto until = std::chrono::steady_clock::now() + options_.timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    auto reply = Receive(std::max(left, std::chrono::milliseconds(0)));
    if (!reply) {
      unanswered_.erase(id);  // given up: not sent again
      return botmodels::Status(ErrorCode::kUnavailable,
                               "no reply from " + endpoint() + " within " +
                                   std::to_string(options_.timeout.count()) +
                                   " ms (is the broker running?)");
    }
    // Replies to earlier calls that timed out are skipped.
    if (reply->id && *reply->id != id) continue;
    if (!reply->more) return std::move(*reply);
    if (on_partial) on_partial(*reply);
    until = std::chrono::steady_clock::now() + options_.timeout;
  }
}

Result<protocol::NamedTensors> Client::Infer(const std::string& model,
                                             protocol::NamedTensors inputs,
                                             std::optional<uint32_t> timeout_ms) {
  protocol::Request request;
  request.op = protocol::Op::kInfer;
  request.model = model;
  request.inputs = std::move(inputs);
  request.timeout_ms = timeout_ms;
  auto reply = Call(std::move(request));
  if (!reply.ok()) return reply.status();
  if (!reply->status.ok()) return reply->status;
  return std::move(reply->outputs);
}

Result<std::vector<protocol::ModelInfo>> Client::Models() {
  protocol::Request request;
  request.op = protocol::Op::kModels;
  auto reply = Call(std::move(request));
  if (!reply.ok()) return reply.status();
  if (!reply->status.ok()) return reply->status;
  return std::move(reply->models);
}

Result<protocol::Reply> Client::Status() {
  protocol::Request request;
  request.op = protocol::Op::kStatus;
  auto reply = Call(std::move(request));
  if (!reply.ok()) return reply.status();
  if (!reply->status.ok()) return reply->status;
  return reply;
}

}  // namespace botmodels
