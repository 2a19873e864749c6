#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "gateway/http/http_message.h"

namespace boost::asio {
class io_context;
}

namespace botmodels {
namespace http_detail {
struct ServerCore;
}

// What an HttpServer listens on and the limits it holds every client to.
struct HttpServerOptions {
  std::string listen = "127.0.0.1:0";  // host:port; port 0: any free one
  // 0: half the cores, at least one. The gateway shares its host with the
  // broker, the workers and ZeroMQ's threads: on 2 cores one I/O thread
  // served 17% more than two (docs/performance.md).
  unsigned io_threads = 0;
  // TLS: both PEM files, or neither (plain HTTP).
  std::string tls_cert_file;
  std::string tls_key_file;
  uint32_t max_header_bytes = 16 << 10;  // request line and headers; past it 431
  uint64_t max_body_bytes = 64 << 20;    // Content-Length or chunked; past it 413
  // From a request's first byte to its last header: past it 408 (slowloris).
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{60'000};   // the whole body; past it 408
  std::chrono::milliseconds idle_timeout{30'000};   // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{60'000};  // each write of a response
  uint32_t max_connections = 16'384;                // past it: 503 and close
  std::chrono::milliseconds drain_timeout{30'000};  // Stop() waits for answers this long
};

// What an HttpServer serves requests with. Called on the server's I/O
// threads: it must not block (a slow answer calls `respond` later).
class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // Called when a request's headers are in, before its body is read. A
  // response answers it at once, the body unread, and the connection closes
  // after it unless there was no body (401, 404...). nullopt: read on.
  virtual std::optional<HttpResponse> Screen(const HttpRequest& request) = 0;
  // Answers a request whose body has been read.
  virtual void Handle(HttpRequest request, Respond respond) = 0;
  // The response to a request the server refuses itself (400 malformed, 408,
  // 413, 431, 503 over max_connections).
  virtual HttpResponse Refusal(int status, std::string message) = 0;
};

// An event-driven HTTP/1.1 server (Boost.Beast over Asio): `io_threads`
// threads serve every connection, none is held by an idle or slow client.
// Keep-alive; pipelined requests are answered in order, one at a time;
// optional TLS. Every phase of a connection has its deadline (options).
class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler& handler);
  ~HttpServer();  // Stop()

  // Binds, listens and starts the I/O threads. Returns the bound port.
  Result<int> Start();
  // Stops accepting, closes idle connections, lets requests being answered
  // finish (up to drain_timeout), then stops the threads.
  void Stop();
  // The I/O threads' context, for other work driven by them (the broker hop).
  boost::asio::io_context& io_context();
  // Connections open now.
  size_t connections() const;
  unsigned io_threads() const;

 private:
  std::unique_ptr<http_detail::ServerCore> core_;
  std::vector<std::thread> threads_;  // run core_'s io_context
};

}  // namespace botmodels
