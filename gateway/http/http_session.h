#pragma once

// Internal to the HTTP server (http_server.cc): Beast's types stay here.

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "gateway/http/http_server.h"
#include "gateway/http/request_parser.h"

namespace botmodels::http_detail {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using Clock = net::steady_timer::clock_type;

// A connection's executor: its strand, named by type. Asio's default,
// any_io_executor, erases it and allocates on the heap for most operations
// (about 20 allocations per request, measured).
using Strand = net::strand<net::io_context::executor_type>;
using Socket = net::basic_stream_socket<tcp, Strand>;
using TlsStream = beast::ssl_stream<Socket>;
using Timer = net::basic_waitable_timer<Clock, net::wait_traits<Clock>, Strand>;

class SessionBase;

// What the server and its sessions share.
struct ServerCore {
  ServerCore(HttpServerOptions o, HttpHandler& h, unsigned threads)
      : options(std::move(o)), handler(h), threads(threads), io(static_cast<int>(threads)) {}

  // Keeps `session` for Drain(); false when the server is draining.
  bool Add(const std::shared_ptr<SessionBase>& session);
  void Remove(SessionBase* session);

  const HttpServerOptions options;
  HttpHandler& handler;
  const unsigned threads;  // I/O threads
  std::optional<net::ssl::context> tls;
  std::atomic<size_t> open{0};  // connections accepted and not yet closed

  std::mutex mutex;  // guards the fields below
  std::condition_variable closed;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions;
  bool draining = false;

  // Last, so destroyed first: the sessions its handlers still hold go while
  // the fields above are alive.
  net::io_context io;
  // Keeps the threads running while a connection waits for its handler's
  // answer with no operation of its own pending.
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::optional<tcp::acceptor> acceptor;  // on a strand of its own
};

// One connection. Lives while an operation of its own is pending.
class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  explicit SessionBase(ServerCore& core) : core_(core) { ++core_.open; }
  virtual ~SessionBase();
  // The server is stopping: close when idle, after the answer otherwise.
  // From any thread.
  virtual void Drain() = 0;

 protected:
  ServerCore& core_;
};

// A connection over `Stream`: Socket or TlsStream.
// Everything runs on the socket's strand.
template <class Stream>
class Session : public SessionBase {
 public:
  // `refuse`: past max_connections, answered 503 and closed.
  Session(ServerCore& core, Socket socket, bool refuse);
  void Run();
  void Drain() override;

 private:
  enum class Phase { kHandshake, kIdle, kHeader, kBody, kBusy, kWrite, kClosing };

  std::shared_ptr<Session> Self();
  // Deadline for the current phase: past it the socket's operations are
  // cancelled (timed_out_ says why).
  void Arm(std::chrono::milliseconds after);
  void Disarm();
  void Wait();  // timer_ until deadline_
  void WaitRequest();
  void WaitReadable();
  void ReadHeader();
  void ReadBody();
  // Answers a failed read of `what` (the headers, the body), whose time
  // limit was `limit`: 431, 413, 408, 400, or a close when the client left.
  void ReadFailed(beast::error_code ec, const char* what, std::chrono::milliseconds limit);
  void Dispatch();
  // Sends `response` (posted here from any thread).
  void Write(HttpResponse response);
  void WriteSource();
  // Asks the source for its next piece, then writes it.
  void Pump();
  void WritePiece(Result<std::string> piece);
  void AfterWrite(beast::error_code ec, bool keep_alive);
  // Answers a failure of the server's own and closes.
  void Refuse(int status, std::string message);
  // Stops sending, reads what the client still sends for a moment (so the
  // answer is not reset away), then closes.
  void LingerClose();
  void Discard();  // LingerClose's reads
  void Close();

  Stream stream_;
  Timer timer_;
  Clock::time_point deadline_ = Clock::time_point::max();  // max: none
  bool waiting_ = false;                                   // a wait on timer_ is pending
  bool timed_out_ = false;
  bool draining_ = false;
  bool refuse_;
  Phase phase_ = Phase::kIdle;
  std::string remote_;
  beast::flat_buffer buffer_;
  HttpRequest request_;                  // the request being read, then answered
  std::optional<RequestParser> parser_;  // while reading: writes into request_
  unsigned version_ = 11;
  std::string head_;  // a whole response's status line and headers, then its body
  std::string body_;
  std::optional<http::response<http::empty_body>> interim_;  // 100 Continue
  // A streamed response.
  std::optional<http::response<http::buffer_body>> streamed_;
  std::optional<http::response_serializer<http::buffer_body>> serializer_;
  std::shared_ptr<BodySource> source_;
  std::string piece_;
  bool keep_alive_ = false;
  std::unique_ptr<char[]> discard_;  // LingerClose's sink
  size_t discarded_ = 0;
};

}  // namespace botmodels::http_detail
