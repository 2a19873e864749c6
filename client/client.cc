#include "client/client.h"

#include <unistd.h>

#include <stdexcept>
#include <zmq_addon.hpp>

#include "common/codec.h"
#include "common/curve_socket.h"
#include "common/zmq_frame.h"

namespace botmodels {

Client::Client(ClientOptions options)
    : options_(std::move(options)),
      context_(options_.context ? options_.context : std::make_shared<zmq::context_t>(1)),
      socket_(*context_, zmq::socket_type::dealer),
      id_prefix_(std::to_string(getpid()) + "-") {
  if (!options_.secret.empty()) signer_.emplace(options_.key_id, options_.secret);
  socket_.set(zmq::sockopt::linger, 0);  // unsent requests die with the client
  socket_.set(zmq::sockopt::maxmsgsize, options_.max_message_bytes);
  if (options_.curve_key) {
    if (botmodels::Status s =
            MakeCurveClient(socket_, *options_.curve_key, options_.curve_server_key);
        !s.ok()) {
      throw std::runtime_error(s.message());
    }
  }
  socket_.connect(options_.endpoint);
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
  SendFrames(SignedFrames(codec::EncodeRequest(request)));
  return request.id;
}

std::optional<protocol::Reply> Client::Receive(std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    try {
      zmq::poll(&item, 1, std::max(left, std::chrono::milliseconds(0)));
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
    }
    if (!(item.revents & ZMQ_POLLIN)) {
      if (std::chrono::steady_clock::now() >= until) return std::nullopt;
      continue;
    }
    std::vector<zmq::message_t> frames;
    if (!zmq::recv_multipart(socket_, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
      continue;
    }
    if (frames.size() != 1) continue;  // not a broker reply
    auto reply = codec::DecodeReply(frames[0].to_string_view());
    if (reply.ok()) return std::move(*reply);
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
  const std::string body = codec::EncodeRequest(request);
  if (body.size() > static_cast<uint64_t>(options_.max_message_bytes)) {
    return InvalidRequest(
        "the request takes " + std::to_string(body.size()) +
        " bytes, over the limit max_message_bytes = " + std::to_string(options_.max_message_bytes));
  }
  SendFrames(SignedFrames(body));
  auto until = std::chrono::steady_clock::now() + options_.timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    auto reply = Receive(std::max(left, std::chrono::milliseconds(0)));
    if (!reply) {
      return botmodels::Status(ErrorCode::kUnavailable,
                               "no reply from " + options_.endpoint + " within " +
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
