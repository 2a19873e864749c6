#include "broker/client_frontend.h"

#include <zmq_addon.hpp>

#include "broker/broker_sockets.h"
#include "common/codec.h"

namespace botmodels {

ClientFrontend::ClientFrontend(zmq::socket_t& socket, const protocol::Limits& limits,
                               std::optional<Authenticator> clients, RefusalLog& refusals,
                               RequestHandler& handler)
    : socket_(socket),
      limits_(limits),
      clients_(std::move(clients)),
      refusals_(refusals),
      handler_(handler) {}

void ClientFrontend::Receive() {
  for (int i = 0; i < BrokerSockets::kReceiveBatch; ++i) {
    frames_.clear();
    if (!zmq::recv_multipart(socket_, std::back_inserter(frames_), zmq::recv_flags::dontwait)) {
      return;
    }
    HandleMessage(frames_);
  }
}

void ClientFrontend::HandleMessage(std::vector<zmq::message_t>& frames) {
  const std::string client = frames[0].to_string();
  const auto peek_id = [&] {
    return frames.size() > 2 ? codec::PeekRequestId(frames[2].to_string_view(), limits_)
                             : std::nullopt;
  };
  if (frames.size() != 1 + protocol::kClientFrames) {
    return Reply(client,
                 protocol::ErrorReply(peek_id(),
                                      InvalidRequest("expected 3 frames [header][body][signature], "
                                                     "got " +
                                                     std::to_string(frames.size() - 1))));
  }
  auto role = Authenticate(frames);
  if (!role.ok()) return Reply(client, protocol::ErrorReply(peek_id(), role.status()));
  // Validated in full, but the tensor bytes stay in the frame: it goes on as is.
  auto request = codec::DecodeRequestView(frames[2].to_string_view(), limits_);
  if (!request.ok()) return Reply(client, protocol::ErrorReply(peek_id(), request.status()));
  const protocol::Request& r = request->request;
  if (const protocol::Role needed = protocol::RequiredRole(r.op); *role < needed) {
    return Reply(
        client,
        protocol::ErrorReply(
            r.id, Status(ErrorCode::kPermissionDenied,
                         "'" + std::string(protocol::OpName(r.op)) + "' needs a key with role " +
                             std::string(protocol::RoleName(needed)) + "; this key has role " +
                             std::string(protocol::RoleName(*role)))));
  }
  handler_.Handle(client, r, frames[2]);
}

Result<protocol::Role> ClientFrontend::Authenticate(std::vector<zmq::message_t>& frames) {
  if (!clients_) return protocol::Role::kAdmin;
  std::string key_id;
  auto key = clients_->Verify(frames[1].to_string_view(), frames[2].to_string_view(),
                              frames[3].to_string_view(), &key_id);
  if (!key.ok()) {
    refusals_.Refused(RefusalLog::PeerOf(frames[1]),
                      "a request (key id '" + key_id + "'): " + key.status().message());
    return key.status();
  }
  return (*key)->role;
}

Delivery ClientFrontend::Send(const std::string& client, zmq::message_t& reply) {
  try {
    // ROUTER_MANDATORY: a full queue is EAGAIN (never a block), a gone client EHOSTUNREACH.
    if (!socket_.send(zmq::buffer(client), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
      return Delivery::kFull;
    }
  } catch (const zmq::error_t& e) {
    if (e.num() == EHOSTUNREACH) return Delivery::kGone;
    throw;
  }
  socket_.send(reply, zmq::send_flags::dontwait);  // the rest of a message never fails
  return Delivery::kSent;
}

void ClientFrontend::Reply(const std::string& client, const protocol::Reply& reply) {
  zmq::message_t message(codec::EncodeReply(reply));
  Send(client, message);  // an answer of the broker's own: dropped if the client reads nothing
}

}  // namespace botmodels
