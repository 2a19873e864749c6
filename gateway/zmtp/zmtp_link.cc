#include "gateway/zmtp/zmtp_link.h"

#include <spdlog/spdlog.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <optional>

#include "gateway/zmtp/zmtp_frames.h"

namespace botmodels {

namespace net = boost::asio;

namespace {

// Bytes asked of the socket per read: many replies at once under load.
constexpr size_t kReadBytes = 16 * 1024;

// An endpoint as libzmq writes it: tcp://host:port (an IPv6 host in
// brackets) or ipc://path (a leading '@': Linux's abstract namespace).
struct Endpoint {
  bool tcp = false;
  std::string host, port;  // tcp
  std::string path;        // ipc
};

std::optional<Endpoint> ParseEndpoint(std::string_view e) {
  Endpoint parsed;
  if (e.starts_with("ipc://")) {
    parsed.path = e.substr(6);
    if (parsed.path.empty()) return std::nullopt;
    if (parsed.path[0] == '@') parsed.path[0] = '\0';
    return parsed;
  }
  if (!e.starts_with("tcp://")) return std::nullopt;
  e.remove_prefix(6);
  const size_t colon = e.rfind(':');
  if (colon == std::string_view::npos || e.find(';') != std::string_view::npos) return std::nullopt;
  std::string_view host = e.substr(0, colon), port = e.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned number = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (host.empty() || host == "*" || ec != std::errc() || end != port.data() + port.size() ||
      number == 0 || number > 65535) {
    return std::nullopt;
  }
  parsed.tcp = true;
  parsed.host = host;
  parsed.port = port;
  return parsed;
}

Status Refused(const std::string& why) { return Status(ErrorCode::kUnavailable, why); }

}  // namespace

bool ZmtpLink::Speaks(std::string_view endpoint) { return ParseEndpoint(endpoint).has_value(); }

ZmtpLink::ZmtpLink(LaneStrand strand, size_t max_message_bytes, MessageHandler handler)
    : strand_(std::move(strand)),
      handler_(std::move(handler)),
      socket_(strand_),
      resolver_(strand_),
      timer_(strand_),
      decoder_(max_message_bytes) {
  handlers_.command = [this](std::string_view name, std::string_view data) {
    return OnCommand(name, data);
  };
  handlers_.message = [this](std::span<const std::string_view> frames) {
    if (!ready_) return Refused("the broker sent a message before its READY");
    handler_(frames);
    return Status();
  };
}

Status ZmtpLink::Open(const std::string& endpoint) {
  if (!ParseEndpoint(endpoint)) {
    return Refused("broker endpoint " + endpoint + ": expected tcp://host:port or ipc://path");
  }
  endpoint_ = endpoint;
  open_ = true;
  Connect();
  return Status();
}

void ZmtpLink::Close() {
  open_ = false;
  ++generation_;
  boost::system::error_code ignored;
  socket_.close(ignored);
  resolver_.cancel();
  timer_.cancel();
  decoder_.Reset();
  ready_ = writing_ = was_up_ = false;
  last_failure_.clear();
  queue_.clear();
  writing_chunks_.clear();
  queued_messages_ = writing_messages_ = 0;
}

bool ZmtpLink::Send(std::vector<std::string> frames) {
  if (!open_ || queued_messages_ + writing_messages_ >= kMaxQueuedMessages) return false;
  for (size_t i = 0; i < frames.size(); ++i) {
    std::string header;  // 2 or 9 bytes: no allocation
    AppendZmtpFrameHeader(header, frames[i].size(), i + 1 < frames.size());
    queue_.push_back(std::move(header));
    queue_.push_back(std::move(frames[i]));
  }
  ++queued_messages_;
  Write();
  return true;
}

void ZmtpLink::Connect() {
  const uint64_t g = ++generation_;
  const Endpoint e = *ParseEndpoint(endpoint_);
  peers_.clear();
  boost::system::error_code not_an_address;
  const auto address = net::ip::make_address(e.host, not_an_address);
  if (!e.tcp) {
    peers_.emplace_back(net::local::stream_protocol::endpoint(e.path));
  } else if (!not_an_address) {
    peers_.emplace_back(net::ip::tcp::endpoint(address, std::stoi(e.port)));
  } else {  // a host name
    resolver_.async_resolve(e.host, e.port,
                            [this, g, host = e.host](boost::system::error_code ec, auto found) {
                              if (g != generation_) return;
                              if (ec) return Lost("cannot resolve " + host + ": " + ec.message());
                              for (const auto& entry : found) peers_.emplace_back(entry.endpoint());
                              ConnectTo(0);
                            });
    return;
  }
  ConnectTo(0);
}

void ZmtpLink::ConnectTo(size_t peer) {
  if (peer >= peers_.size()) return Lost("cannot connect: no address answered");
  const uint64_t g = generation_;
  socket_.async_connect(peers_[peer], [this, g, peer](boost::system::error_code ec) {
    if (g != generation_) return;
    if (!ec) return Connected(peers_[peer]);
    // The next address (localhost may be ::1, then 127.0.0.1), as libzmq.
    if (peer + 1 < peers_.size()) {
      boost::system::error_code ignored;
      socket_.close(ignored);
      return ConnectTo(peer + 1);
    }
    Lost("cannot connect: " + ec.message());
  });
}

void ZmtpLink::Connected(const net::generic::stream_protocol::endpoint& peer) {
  const uint64_t g = generation_;
  if (peer.protocol().family() != AF_UNIX) {
    boost::system::error_code ignored;
    socket_.set_option(net::ip::tcp::no_delay(true), ignored);  // as libzmq: requests are small
  }
  decoder_.Reset();
  ready_ = false;
  writing_ = true;
  static const std::string kHandshake = ZmtpGreeting() + ZmtpReady("DEALER");
  net::async_write(socket_, net::buffer(kHandshake),
                   [this, g](boost::system::error_code ec, size_t) {
                     if (g != generation_) return;
                     if (ec) return Lost("writing the greeting: " + ec.message());
                     writing_ = false;
                     Write();
                   });
  timer_.expires_after(kHandshakeWithin);
  timer_.async_wait([this, g](boost::system::error_code ec) {
    if (!ec && g == generation_ && !ready_) Lost("no ZMTP handshake from the broker");
  });
  Read();
}

void ZmtpLink::Read() {
  const uint64_t g = generation_;
  const std::span<char> room = decoder_.Prepare(kReadBytes);
  socket_.async_read_some(
      net::buffer(room.data(), room.size()), [this, g](boost::system::error_code ec, size_t n) {
        if (g != generation_) return;
        if (ec) return Lost(ec == net::error::eof ? "the broker closed it" : ec.message());
        if (Status s = decoder_.Commit(n, handlers_); !s.ok()) return Lost(s.message());
        Read();
      });
}

void ZmtpLink::Write() {
  if (!ready_ || writing_ || queue_.empty()) return;
  writing_chunks_.swap(queue_);
  writing_messages_ = queued_messages_;
  queued_messages_ = 0;
  buffers_.clear();
  for (const std::string& chunk : writing_chunks_) buffers_.emplace_back(net::buffer(chunk));
  writing_ = true;
  const uint64_t g = generation_;
  net::async_write(socket_, buffers_, [this, g](boost::system::error_code ec, size_t) {
    if (g != generation_) return;
    if (ec) return Lost("writing: " + ec.message());
    writing_ = false;
    writing_chunks_.clear();
    writing_messages_ = 0;
    Write();
  });
}

Status ZmtpLink::OnCommand(std::string_view name, std::string_view data) {
  if (name == "READY") {
    if (ready_) return Refused("the broker sent READY twice");
    const std::string_view type = ZmtpProperty(data, "Socket-Type");
    if (type != "ROUTER" && type != "DEALER") {
      return Refused("the peer is a " + std::string(type) + " socket, not a broker's ROUTER");
    }
    ready_ = was_up_ = true;
    last_failure_.clear();
    timer_.cancel();
    spdlog::debug("broker link to {} up", endpoint_);
    Write();
  } else if (name == "PING") {
    // A heartbeat (ZMTP 3.1): a 2-byte TTL, then a context PONG echoes.
    if (data.size() < 2) return Refused("the broker sent a PING without its TTL");
    queue_.push_back(ZmtpCommand("PONG", data.substr(2)));
    Write();
  } else if (name == "ERROR") {
    const std::string_view reason = data.empty() ? data : data.substr(1, uint8_t(data[0]));
    return Refused("the broker refused the connection: " + std::string(reason));
  }
  return Status();  // other commands (PONG, SUBSCRIBE...) mean nothing to a DEALER
}

void ZmtpLink::Lost(const std::string& why) {
  // Said once per change, not once per try every 100 ms.
  if (was_up_) {
    spdlog::warn("broker link to {} lost ({}); reconnecting every {} ms", endpoint_, why,
                 kReconnectAfter.count());
  } else if (why != last_failure_) {
    spdlog::warn("broker link to {}: {}; trying again every {} ms", endpoint_, why,
                 kReconnectAfter.count());
  }
  last_failure_ = why;
  const uint64_t g = ++generation_;
  boost::system::error_code ignored;
  socket_.close(ignored);
  ready_ = writing_ = was_up_ = false;
  writing_chunks_.clear();  // possibly half written: lost, as with libzmq
  writing_messages_ = 0;
  timer_.expires_after(kReconnectAfter);
  timer_.async_wait([this, g](boost::system::error_code ec) {
    if (!ec && g == generation_) Connect();
  });
}

}  // namespace botmodels
