#pragma once

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/broker_link.h"
#include "gateway/zmtp/zmtp_decoder.h"

namespace botmodels {

// A BrokerLink that speaks ZeroMQ's wire protocol (ZMTP 3.1, NULL
// mechanism, as a DEALER) itself, on the lane's strand: a request goes from
// the HTTP session's I/O thread to the broker's socket, and its reply back,
// with no libzmq I/O thread between them (two thread wake-ups and two
// copies less per request). Like libzmq it reconnects every 100 ms while
// the broker is unreachable, keeps up to 1 000 messages meanwhile, and cuts
// off a peer that breaks the protocol or max_message_bytes. Speaks tcp://
// and ipc:// endpoints without CURVE; ZmqLink covers the rest. Runs on the
// lane's strand; not thread-safe.
class ZmtpLink : public BrokerLink {
 public:
  // ZeroMQ's defaults, which a DEALER through libzmq would have.
  static constexpr std::chrono::milliseconds kReconnectAfter{100};      // ZMQ_RECONNECT_IVL
  static constexpr size_t kMaxQueuedMessages = 1000;                    // ZMQ_SNDHWM
  static constexpr std::chrono::milliseconds kHandshakeWithin{30'000};  // ZMQ_HANDSHAKE_IVL

  // Whether ZmtpLink connects to `endpoint`: "tcp://host:port" or "ipc://path".
  static bool Speaks(std::string_view endpoint);

  // `max_message_bytes`: the largest message taken from the broker.
  ZmtpLink(LaneStrand strand, size_t max_message_bytes, MessageHandler handler);
  ~ZmtpLink() override { Close(); }

  Status Open(const std::string& endpoint) override;
  bool Send(std::vector<std::string> frames) override;
  void Close() override;

 private:
  // Typed on the strand: any_io_executor would allocate per operation.
  using Socket =
      boost::asio::basic_stream_socket<boost::asio::generic::stream_protocol, LaneStrand>;
  using Timer = boost::asio::basic_waitable_timer<
      std::chrono::steady_clock, boost::asio::wait_traits<std::chrono::steady_clock>, LaneStrand>;

  // Resolves the endpoint into peers_, then ConnectTo(0).
  void Connect();
  // Connects to peers_[peer], or the next one if it refuses.
  void ConnectTo(size_t peer);
  void Connected(const boost::asio::generic::stream_protocol::endpoint& peer);
  void Read();
  void Write();
  Status OnCommand(std::string_view name, std::string_view data);
  // Drops the connection (`why` is logged once it had been up) and tries
  // again after kReconnectAfter; what was being written is lost, as with
  // libzmq, and what was queued waits for the next connection.
  void Lost(const std::string& why);

  LaneStrand strand_;
  MessageHandler handler_;
  std::string endpoint_;
  std::vector<boost::asio::generic::stream_protocol::endpoint> peers_;  // its addresses
  bool open_ = false;
  Socket socket_;
  boost::asio::ip::tcp::resolver resolver_;
  Timer timer_;              // the next reconnection, or the handshake's limit
  uint64_t generation_ = 0;  // of the connection: older handlers are ignored
  ZmtpDecoder decoder_;
  ZmtpDecoder::Handlers handlers_;
  bool ready_ = false;        // the broker's READY came: messages may go
  bool writing_ = false;      // a write is under way
  bool was_up_ = false;       // this connection had been ready
  std::string last_failure_;  // why the last try failed, logged once
  // Whole messages, as chunks (frame headers and frames), waiting to be
  // written; the chunks being written, and how many messages they hold.
  std::vector<std::string> queue_;
  size_t queued_messages_ = 0;
  std::vector<std::string> writing_chunks_;
  size_t writing_messages_ = 0;
  std::vector<boost::asio::const_buffer> buffers_;  // of writing_chunks_
};

}  // namespace botmodels
