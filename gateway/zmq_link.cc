#include "gateway/zmq_link.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <zmq_addon.hpp>

#include "common/curve_socket.h"
#include "common/zmq_frame.h"

namespace botmodels {

namespace net = boost::asio;

namespace {

// Messages taken per turn before the link lets other work on its thread run.
constexpr int kMessagesPerTurn = 64;

}  // namespace

ZmqLink::ZmqLink(zmq::context_t& context, const ClientOptions& options, LaneStrand strand,
                 MessageHandler handler)
    : context_(context),
      options_(options),
      strand_(std::move(strand)),
      handler_(std::move(handler)),
      readable_(strand_) {}

Status ZmqLink::Open(const std::string& endpoint) {
  socket_ = zmq::socket_t(context_, zmq::socket_type::dealer);
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::maxmsgsize, options_.max_message_bytes);
  if (options_.curve_key) {
    BOTMODELS_RETURN_IF_ERROR(
        MakeCurveClient(socket_, *options_.curve_key, options_.curve_server_key));
  }
  try {
    socket_.connect(endpoint);
  } catch (const zmq::error_t& e) {
    socket_.close();
    return Status(ErrorCode::kUnavailable, "broker endpoint " + endpoint + ": " + e.what());
  }
  readable_.assign(socket_.get(zmq::sockopt::fd));
  ++generation_;
  Watch();
  Drain();
  return Status();
}

void ZmqLink::Close() {
  if (!socket_) return;
  boost::system::error_code ignored;
  readable_.cancel(ignored);
  readable_.release();  // ZeroMQ closes its own descriptor
  watching_ = false;
  socket_.close();
}

bool ZmqLink::Send(std::vector<std::string> frames) {
  bool sent = true;
  try {
    for (size_t i = 0; i < frames.size() && sent; ++i) {
      const bool last = i + 1 == frames.size();
      sent = socket_
                 .send(FrameOf(std::move(frames[i])),
                       (last ? zmq::send_flags::none : zmq::send_flags::sndmore) |
                           zmq::send_flags::dontwait)
                 .has_value();
    }
  } catch (const zmq::error_t& e) {
    spdlog::error("broker link: send failed: {}", e.what());
    sent = false;
  }
  Drain();  // sending may have taken ZMQ_FD's signal for a reply
  return sent;
}

void ZmqLink::Drain() {
  std::vector<zmq::message_t> frames;
  std::vector<std::string_view> views;
  for (int n = 0; n < kMessagesPerTurn; ++n) {
    frames.clear();
    if (!zmq::recv_multipart(socket_, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
      return;  // nothing more: ZeroMQ's commands are processed, ZMQ_FD re-armed
    }
    views.clear();
    for (const zmq::message_t& f : frames) views.push_back(f.to_string_view());
    handler_(views);
  }
  // More messages wait: let other work on this thread run first.
  if (!draining_) {
    draining_ = true;
    net::post(strand_, [this, socket_generation = generation_] {
      draining_ = false;
      if (socket_generation == generation_ && socket_) Drain();
    });
  }
}

void ZmqLink::Watch() {
  if (watching_) return;
  watching_ = true;
  readable_.async_wait(net::posix::stream_descriptor::wait_read,
                       [this, socket_generation = generation_](boost::system::error_code ec) {
                         if (socket_generation != generation_) return;  // a closed socket's
                         watching_ = false;
                         if (ec) return;  // cancelled: stopping
                         Watch();         // armed again before the socket is read
                         Drain();
                       });
}

}  // namespace botmodels
