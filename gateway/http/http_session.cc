#include "gateway/http/http_session.h"

#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <type_traits>

namespace botmodels::http_detail {
namespace {

// After a response that closes the connection, what the client still sends
// is read and dropped for this long, or this much, so that closing with
// unread bytes does not reset the answer away before the client reads it.
constexpr std::chrono::milliseconds kLingerTime{2000};
constexpr size_t kLingerBytes = 1 << 20;
constexpr size_t kDiscardBytes = 4096;  // the linger read's buffer
constexpr size_t kIdleRead = 512;       // an idle connection's first read: a request line or so
// A request's reads once its first bytes came: large enough that a usual
// request (a 10 KB JSON body, say) takes one or two system calls, not one
// per 512 bytes; given back when the connection goes idle again.
constexpr size_t kRequestRead = 16 * 1024;

Socket MakeStream(Socket socket, ServerCore&, std::type_identity<Socket>) { return socket; }
TlsStream MakeStream(Socket socket, ServerCore& core, std::type_identity<TlsStream>) {
  return TlsStream(std::move(socket), *core.tls);
}

std::string PeerAddress(Socket& socket) {
  beast::error_code ec;
  const auto endpoint = socket.remote_endpoint(ec);
  if (ec) return {};
  net::ip::address address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6());
  }
  return address.to_string();
}

// Whether the connection just ended, as opposed to sending something wrong.
bool Ended(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::operation_aborted ||
         ec == net::error::broken_pipe || ec == net::ssl::error::stream_truncated;
}

std::string Ms(std::chrono::milliseconds ms) { return std::to_string(ms.count()) + " ms"; }

// Whether a response of `status` carries a body (RFC 9110: not 1xx, 204, 304).
bool HasBody(int status) { return status >= 200 && status != 204 && status != 304; }

// Appends `text` with CR and LF made spaces: a header value never ends the
// header early, whatever a handler put in it.
void AppendFieldText(std::string& out, std::string_view text) {
  for (char c : text) out += c == '\r' || c == '\n' ? ' ' : c;
}

// The status line and header fields of `response`, whose body holds
// `body_bytes`, framed by Content-Length. Written here rather than through a
// beast::http::response: each field there is a heap allocation, and the
// serializer's buffer sequence costs more than the rest of a small reply.
void AppendHead(std::string& out, const HttpResponse& response, unsigned version, bool keep_alive,
                size_t body_bytes) {
  const auto reason = http::obsolete_reason(static_cast<http::status>(response.status));
  out += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out.append(reason.data(), reason.size());
  out += "\r\n";
  for (const auto& [name, value] : response.headers) {
    if (SameIgnoringCase(name, "Content-Length") || SameIgnoringCase(name, "Connection") ||
        SameIgnoringCase(name, "Transfer-Encoding")) {
      continue;  // framing is the server's
    }
    AppendFieldText(out, name);
    out += ": ";
    AppendFieldText(out, value);
    out += "\r\n";
  }
  if (HasBody(response.status)) {
    out += "Content-Length: ";
    out += std::to_string(body_bytes);
    out += "\r\n";
  }
  if (!keep_alive && version == 11) out += "Connection: close\r\n";
  if (keep_alive && version == 10) out += "Connection: keep-alive\r\n";
  out += "\r\n";
}

}  // namespace

bool ServerCore::Add(const std::shared_ptr<SessionBase>& session) {
  std::lock_guard lock(mutex);
  if (draining) return false;
  sessions.emplace(session.get(), session);
  return true;
}

void ServerCore::Remove(SessionBase* session) {
  std::lock_guard lock(mutex);
  sessions.erase(session);
  --open;
  closed.notify_all();
}

SessionBase::~SessionBase() { core_.Remove(this); }

template <class Stream>
Session<Stream>::Session(ServerCore& core, Socket socket, bool refuse)
    : SessionBase(core),
      stream_(MakeStream(std::move(socket), core, std::type_identity<Stream>())),
      timer_(stream_.get_executor()),
      refuse_(refuse) {
  remote_ = PeerAddress(beast::get_lowest_layer(stream_));
}

template <class Stream>
std::shared_ptr<Session<Stream>> Session<Stream>::Self() {
  return std::static_pointer_cast<Session>(shared_from_this());
}

template <class Stream>
void Session<Stream>::Run() {
  if (!core_.Add(shared_from_this())) return Close();
  const auto start = [this] {
    if (refuse_) {
      return Refuse(503, "the gateway holds max_connections = " +
                             std::to_string(core_.options.max_connections) + " connections");
    }
    WaitRequest();
  };
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    phase_ = Phase::kHandshake;
    Arm(core_.options.header_timeout);
    stream_.async_handshake(net::ssl::stream_base::server,
                            [self = Self(), start](beast::error_code ec) {
                              if (ec) return self->Close();
                              start();
                            });
  } else {
    start();
  }
}

template <class Stream>
void Session<Stream>::Drain() {
  net::dispatch(stream_.get_executor(), [self = Self()] {
    self->draining_ = true;
    if (self->phase_ == Phase::kIdle || self->phase_ == Phase::kHandshake) self->Close();
  });
}

template <class Stream>
void Session<Stream>::Arm(std::chrono::milliseconds after) {
  timed_out_ = false;
  deadline_ = Clock::now() + after;
  // A pending wait that ends sooner wakes, finds the deadline later, and
  // waits on: a request's phases seldom touch the timer.
  if (!waiting_ || timer_.expiry() > deadline_) Wait();
}

template <class Stream>
void Session<Stream>::Disarm() {
  deadline_ = Clock::time_point::max();  // a pending wait wakes to nothing
}

template <class Stream>
void Session<Stream>::Wait() {
  timer_.expires_at(deadline_);  // a pending wait is cancelled: its handler sees aborted
  waiting_ = true;
  timer_.async_wait([self = Self()](beast::error_code ec) {
    if (ec == net::error::operation_aborted) return;  // replaced, or closing
    self->waiting_ = false;
    if (self->deadline_ == Clock::time_point::max()) return;
    if (Clock::now() < self->deadline_) return self->Wait();
    self->timed_out_ = true;
    self->deadline_ = Clock::time_point::max();
    beast::error_code ignored;
    beast::get_lowest_layer(self->stream_).cancel(ignored);
  });
}

template <class Stream>
void Session<Stream>::WaitRequest() {
  parser_.reset();
  request_ = HttpRequest();
  if (draining_) return Close();
  if (buffer_.size() > 0) return ReadHeader();  // a pipelined request
  // An idle connection holds only its 512-byte read (kept, not freed and
  // allocated again, when that is all it had).
  if (buffer_.capacity() > kIdleRead) buffer_.shrink_to_fit();
  phase_ = Phase::kIdle;
  Arm(core_.options.idle_timeout);
  WaitReadable();
}

template <class Stream>
void Session<Stream>::WaitReadable() {
  // A small read rather than a wait for readability: Asio re-arms epoll
  // (a system call) for every wait, and a read takes what is already there.
  stream_.async_read_some(buffer_.prepare(kIdleRead),
                          [self = Self()](beast::error_code ec, size_t n) {
                            self->buffer_.commit(n);
                            if (ec) return self->Close();
                            self->ReadHeader();
                          });
}

template <class Stream>
void Session<Stream>::ReadHeader() {
  phase_ = Phase::kHeader;
  Arm(core_.options.header_timeout);  // from the request's first byte
  // The first read filled its 512 bytes: more is waiting, to be read in
  // large reads. (A request shorter than that came whole.)
  if (buffer_.size() == buffer_.capacity()) buffer_.reserve(kRequestRead);
  parser_.emplace(request_, core_.options.max_body_bytes);
  parser_->header_limit(core_.options.max_header_bytes);
  http::async_read_header(
      stream_, buffer_, *parser_, [self = Self()](beast::error_code ec, size_t) {
        if (ec)
          return self->ReadFailed(ec, "the request's headers", self->core_.options.header_timeout);

        HttpRequest& request = self->request_;
        request.keep_alive = self->parser_->keep_alive();
        request.remote_addr = self->remote_;
        self->version_ = self->parser_->version();
        self->keep_alive_ = request.keep_alive;
        if (auto answer = self->core_.handler.Screen(request)) {
          if (!self->parser_->is_done()) answer->close = true;  // its body stays unread
          self->Disarm();
          return self->Write(std::move(*answer));
        }
        self->ReadBody();
      });
}

template <class Stream>
void Session<Stream>::ReadFailed(beast::error_code ec, const char* what,
                                 std::chrono::milliseconds limit) {
  const auto& options = core_.options;
  if (ec == http::error::header_limit) {
    return Refuse(431, "the request's headers are over max_header_bytes = " +
                           std::to_string(options.max_header_bytes));
  }
  if (ec == http::error::body_limit) {
    return Refuse(
        413, "the request body is over max_body_bytes = " + std::to_string(options.max_body_bytes));
  }
  if (timed_out_)
    return Refuse(408, std::string(what) + " took longer than " + Ms(limit) + " to arrive");
  if (Ended(ec)) return Close();
  Refuse(400, "malformed request: " + std::string(what) + ": " + ec.message());
}

template <class Stream>
void Session<Stream>::ReadBody() {
  if (parser_->is_done()) return Dispatch();
  phase_ = Phase::kBody;
  Arm(core_.options.body_timeout);
  // Large reads for a body not all here yet (it came apart from its headers).
  if (const auto left = parser_->content_length_remaining(); !left || *left > buffer_.size()) {
    buffer_.reserve(kRequestRead);
  }
  const auto read = [self = Self()] {
    http::async_read(
        self->stream_, self->buffer_, *self->parser_, [self](beast::error_code ec, size_t) {
          if (ec) {
            return self->ReadFailed(ec, "the request body", self->core_.options.body_timeout);
          }
          self->Dispatch();
        });
  };
  const std::string_view expect = request_.headers.Get("Expect");
  if (!beast::iequals(beast::string_view(expect.data(), expect.size()), "100-continue")) {
    return read();
  }
  interim_.emplace(http::status::continue_, version_);
  http::async_write(stream_, *interim_, [self = Self(), read](beast::error_code ec, size_t) {
    self->interim_.reset();
    if (ec) return self->Close();
    read();
  });
}

template <class Stream>
void Session<Stream>::Dispatch() {
  Disarm();
  phase_ = Phase::kBusy;
  parser_.reset();
  core_.handler.Handle(std::move(request_), [self = Self()](HttpResponse response) {
    net::dispatch(self->stream_.get_executor(), [self, response = std::move(response)]() mutable {
      self->Write(std::move(response));
    });
  });
}

template <class Stream>
void Session<Stream>::Write(HttpResponse response) {
  if (phase_ == Phase::kClosing) return;
  keep_alive_ = keep_alive_ && !response.close && !draining_;
  phase_ = Phase::kWrite;
  if (response.source) {
    source_ = std::move(response.source);
    streamed_.emplace(static_cast<http::status>(response.status), version_);
    for (const auto& [name, value] : response.headers) streamed_->set(name, value);
    return WriteSource();
  }
  body_ = std::move(response.body);
  if (!HasBody(response.status)) body_.clear();
  head_.clear();
  AppendHead(head_, response, version_, keep_alive_, body_.size());
  Arm(core_.options.write_timeout);
  const std::array<net::const_buffer, 2> message = {net::buffer(head_), net::buffer(body_)};
  net::async_write(stream_, message, [self = Self()](beast::error_code ec, size_t) {
    self->AfterWrite(ec, self->keep_alive_);
  });
}

template <class Stream>
void Session<Stream>::WriteSource() {
  auto& body = streamed_->body();
  body.data = nullptr;
  body.size = 0;
  body.more = true;
  if (const auto size = source_->size()) {
    streamed_->content_length(*size);
  } else {
    streamed_->chunked(true);
  }
  streamed_->keep_alive(keep_alive_);
  serializer_.emplace(*streamed_);
  Arm(core_.options.write_timeout);
  http::async_write_header(stream_, *serializer_, [self = Self()](beast::error_code ec, size_t) {
    if (ec) return self->Close();
    self->Pump();
  });
}

template <class Stream>
void Session<Stream>::Pump() {
  Disarm();  // the source bounds its own waits
  source_->Next([self = Self()](Result<std::string> piece) {
    net::dispatch(self->stream_.get_executor(), [self, piece = std::move(piece)]() mutable {
      self->WritePiece(std::move(piece));
    });
  });
}

template <class Stream>
void Session<Stream>::WritePiece(Result<std::string> piece) {
  if (phase_ == Phase::kClosing) return;
  if (!piece.ok()) return Close();  // the status line has gone: cut the body short
  auto& body = streamed_->body();
  piece_ = std::move(*piece);
  body.data = piece_.empty() ? nullptr : piece_.data();
  body.size = piece_.size();
  body.more = !piece_.empty();
  Arm(core_.options.write_timeout);
  http::async_write(stream_, *serializer_, [self = Self()](beast::error_code ec, size_t) {
    if (ec == http::error::need_buffer) ec = {};
    if (ec) return self->Close();
    if (self->serializer_->is_done()) return self->AfterWrite(ec, self->keep_alive_);
    self->Pump();
  });
}

template <class Stream>
void Session<Stream>::AfterWrite(beast::error_code ec, bool keep_alive) {
  body_ = std::string();
  serializer_.reset();
  streamed_.reset();
  source_.reset();
  piece_ = std::string();
  if (ec) return Close();
  if (!keep_alive) return LingerClose();
  WaitRequest();
}

template <class Stream>
void Session<Stream>::Refuse(int status, std::string message) {
  keep_alive_ = false;
  HttpResponse response = core_.handler.Refusal(status, std::move(message));
  response.close = true;
  Disarm();
  Write(std::move(response));
}

template <class Stream>
void Session<Stream>::LingerClose() {
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    return Close();
  } else {
    phase_ = Phase::kClosing;
    beast::error_code ignored;
    stream_.shutdown(Socket::shutdown_send, ignored);
    buffer_.clear();
    buffer_.shrink_to_fit();
    discard_ = std::make_unique<char[]>(kDiscardBytes);
    Arm(kLingerTime);
    Discard();
  }
}

template <class Stream>
void Session<Stream>::Discard() {
  stream_.async_read_some(net::buffer(discard_.get(), kDiscardBytes),
                          [self = Self()](beast::error_code ec, size_t n) {
                            self->discarded_ += n;
                            if (ec || self->discarded_ > kLingerBytes) return self->Close();
                            self->Discard();
                          });
}

template <class Stream>
void Session<Stream>::Close() {
  phase_ = Phase::kClosing;
  Disarm();
  timer_.cancel();  // its wait holds the session
  beast::error_code ignored;
  auto& socket = beast::get_lowest_layer(stream_);
  socket.shutdown(Socket::shutdown_both, ignored);
  socket.close(ignored);
}

template class Session<Socket>;
template class Session<TlsStream>;

}  // namespace botmodels::http_detail
