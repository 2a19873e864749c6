// HttpServer: limits, keep-alive, pipelining, streaming and draining, over
// raw sockets against a handler of the test's own.
#include "gateway/http/http_server.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/broker_harness.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::ConnectLoopback;
using testing::ReadUntilClosed;

// Pieces of a body, made one every `gap` on a thread of the test's.
class SlowSource : public BodySource {
 public:
  SlowSource(int pieces, std::chrono::milliseconds gap, std::vector<std::thread>& threads,
             std::mutex& mutex)
      : pieces_(pieces), gap_(gap), threads_(threads), mutex_(mutex) {}
  std::optional<uint64_t> size() const override { return std::nullopt; }
  void Next(std::function<void(Result<std::string>)> done) override {
    if (made_ == pieces_) return done(std::string());
    const int n = made_++;
    std::lock_guard lock(mutex_);
    threads_.emplace_back([this, n, done] {
      std::this_thread::sleep_for(gap_);
      done("piece" + std::to_string(n) + ";");
    });
  }

 private:
  int pieces_, made_ = 0;
  std::chrono::milliseconds gap_;
  std::vector<std::thread>& threads_;
  std::mutex& mutex_;
};

// Answers "<method> <path> <body bytes>"; /slow after 300 ms, /stream in
// pieces, /held when Release() is called; /private needs "X-Key: k".
class TestHandler : public HttpHandler {
 public:
  ~TestHandler() override { Join(); }

  std::optional<HttpResponse> Screen(const HttpRequest& request) override {
    if (request.path == "/private" && request.headers.Get("x-key") != "k") {
      return HttpResponse::Text(401, "text/plain", "no key");
    }
    return std::nullopt;
  }

  void Handle(HttpRequest request, Respond respond) override {
    ++handled;
    if (request.path == "/held") {
      std::lock_guard lock(mutex_);
      held_.push_back(std::move(respond));
      return;
    }
    if (request.path == "/slow") {
      std::lock_guard lock(mutex_);
      threads_.emplace_back([respond] {
        std::this_thread::sleep_for(300ms);
        respond(HttpResponse::Text(200, "text/plain", "slow answer"));
      });
      return;
    }
    if (request.path == "/stream") {
      HttpResponse response = HttpResponse::Text(200, "text/plain", "");
      response.source = std::make_shared<SlowSource>(3, 200ms, threads_, mutex_);
      return respond(std::move(response));
    }
    respond(HttpResponse::Text(
        200, "text/plain",
        request.method + " " + request.path + " " + std::to_string(request.body.size())));
  }

  HttpResponse Refusal(int status, std::string message) override {
    return HttpResponse::Text(status, "text/plain", std::move(message));
  }

  void Join() {
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      threads.swap(threads_);
    }
    for (std::thread& t : threads) t.join();
  }

  // Answers the /held requests; how many there were.
  size_t Release() {
    std::vector<Respond> held;
    {
      std::lock_guard lock(mutex_);
      held.swap(held_);
    }
    for (Respond& respond : held) respond(HttpResponse::Text(200, "text/plain", "released"));
    return held.size();
  }

  std::atomic<int> handled{0};

 private:
  std::mutex mutex_;
  std::vector<std::thread> threads_;
  std::vector<Respond> held_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void Start(HttpServerOptions options = {}) {
    options.listen = "127.0.0.1:0";
    options.io_threads = 2;
    server_ = std::make_unique<HttpServer>(options, handler_);
    auto port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.status().message();
    port_ = *port;
  }
  void TearDown() override {
    if (server_) server_->Stop();
    handler_.Join();
  }

  int Connect() { return ConnectLoopback(port_); }

  static void Send(int fd, const std::string& bytes) {
    ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }

  // One request on a fresh connection that closes after it; the raw answer.
  std::string Exchange(const std::string& request) {
    const int fd = Connect();
    EXPECT_GE(fd, 0);
    Send(fd, request);
    std::string answer = ReadUntilClosed(fd);
    ::close(fd);
    return answer;
  }

  TestHandler handler_;
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
};

TEST_F(HttpServerTest, AnswersPipelinedRequestsInOrderOnOneConnection) {
  Start();
  const std::string answer = Exchange(
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
      "GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const size_t a = answer.find("GET /a 0"), b = answer.find("POST /b 5"),
               c = answer.find("GET /c 0");
  ASSERT_NE(a, std::string::npos) << answer;
  ASSERT_NE(b, std::string::npos) << answer;
  ASSERT_NE(c, std::string::npos) << answer;
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
}

// A request that comes while the one before is being answered, after the
// server has read all there was, is read once the answer is out.
TEST_F(HttpServerTest, ARequestThatComesWhileTheLastIsAnsweredIsRead) {
  HttpServerOptions options;
  options.idle_timeout = 60s;  // a missed request shows as a stall, not a close
  Start(options);
  const int fd = Connect();
  ASSERT_GE(fd, 0);
  Send(fd, "GET /held HTTP/1.1\r\nHost: x\r\n\r\n");
  for (const auto until = Clock::now() + 5s; handler_.handled < 1 && Clock::now() < until;) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_EQ(handler_.handled, 1);
  Send(fd, "GET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::this_thread::sleep_for(100ms);  // the server's reactor sees the bytes come
  EXPECT_EQ(handler_.Release(), 1u);
  const std::string answers = ReadUntilClosed(fd, 5s);
  ::close(fd);
  EXPECT_NE(answers.find("released"), std::string::npos) << answers;
  EXPECT_NE(answers.find("GET /next 0"), std::string::npos) << "the second request was read";
}

TEST_F(HttpServerTest, SlowHeadersAreCutAtTheHeaderTimeoutWith408) {
  HttpServerOptions options;
  options.header_timeout = 300ms;
  Start(options);
  const int fd = Connect();
  ASSERT_GE(fd, 0);
  const auto start = Clock::now();
  Send(fd, "GET / HTTP/1.1\r\n");
  std::string answer;
  for (int i = 0; i < 50 && answer.empty(); ++i) {  // a header line every 100 ms, for 5 s
    if (::send(fd, "X-A: 1\r\n", 8, MSG_NOSIGNAL) != 8) break;
    pollfd item{fd, POLLIN, 0};
    if (::poll(&item, 1, 100) > 0) answer = ReadUntilClosed(fd, 2s);
  }
  ::close(fd);
  EXPECT_EQ(answer.rfind("HTTP/1.1 408", 0), 0u) << answer;
  EXPECT_LT(Clock::now() - start, 3s);
  EXPECT_EQ(handler_.handled, 0);
}

TEST_F(HttpServerTest, OversizedHeadersAre431) {
  HttpServerOptions options;
  options.max_header_bytes = 4096;
  Start(options);
  const std::string answer =
      Exchange("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(8192, 'a') + "\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 431", 0), 0u) << answer.substr(0, 200);
  EXPECT_EQ(Exchange("GET /fine HTTP/1.1\r\nConnection: close\r\n\r\n").find("GET /fine 0") !=
                std::string::npos,
            true);
}

TEST_F(HttpServerTest, BodiesPastTheLimitAre413WhetherSizedOrChunked) {
  HttpServerOptions options;
  options.max_body_bytes = 64 << 10;
  Start(options);
  // A Content-Length over the limit: refused before a byte of the body.
  const std::string sized = Exchange("POST /x HTTP/1.1\r\nContent-Length: 1000000\r\n\r\n");
  EXPECT_EQ(sized.rfind("HTTP/1.1 413", 0), 0u) << sized;
  // Chunks past the limit: refused once it is passed, long before the 4 MiB sent.
  const int fd = Connect();
  ASSERT_GE(fd, 0);
  Send(fd, "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
  const std::string chunk = "4000\r\n" + std::string(0x4000, 'x') + "\r\n";
  int sent = 0;
  for (; sent < 256; ++sent) {
    pollfd item{fd, POLLIN, 0};
    if (::poll(&item, 1, 0) > 0) break;
    if (::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(chunk.size())) {
      break;
    }
  }
  const std::string chunked = ReadUntilClosed(fd);
  ::close(fd);
  EXPECT_EQ(chunked.rfind("HTTP/1.1 413", 0), 0u) << chunked.substr(0, 200);
  EXPECT_LT(sent, 256);
  EXPECT_EQ(handler_.handled, 0) << "no oversized body reaches the handler";
}

// The process's resident memory ("VmRSS") or its peak ("VmHWM"), in bytes.
int64_t MemoryBytes(const std::string& field) {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1)) << 10;
  }
  return -1;
}

TEST_F(HttpServerTest, AChunkedBodyPastTheLimitIsCutWithMemoryNearTheLimit) {
  constexpr int64_t kLimit = 16 << 20;
  HttpServerOptions options;
  options.max_body_bytes = kLimit;
  Start(options);
  const int64_t before = MemoryBytes("VmRSS");
  ASSERT_GT(before, 0);
  const int fd = Connect();
  ASSERT_GE(fd, 0);
  Send(fd, "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
  const std::string chunk = "10000\r\n" + std::string(0x10000, 'x') + "\r\n";
  int64_t sent = 0;
  while (sent < 16 * kLimit) {  // up to 256 MiB, until the answer comes
    pollfd item{fd, POLLIN, 0};
    if (::poll(&item, 1, 0) > 0) break;
    const ssize_t n = ::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += n;
  }
  const std::string answer = ReadUntilClosed(fd);
  ::close(fd);
  EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer.substr(0, 200);
  EXPECT_LT(sent, 4 * kLimit) << "refused once the limit is passed";
#ifndef __SANITIZE_ADDRESS__  // ASan keeps freed memory in quarantine
  // Near 1 x the limit: a growth copies at most half of it (RequestParser).
  EXPECT_LT(MemoryBytes("VmHWM") - before, kLimit * 3 / 2);
#endif
}

TEST_F(HttpServerTest, ScreenAnswersBeforeTheBodyIsRead) {
  Start();
  // The body is announced and never sent: the 401 cannot wait for it.
  const int fd = Connect();
  ASSERT_GE(fd, 0);
  Send(fd, "POST /private HTTP/1.1\r\nContent-Length: 100000\r\n\r\n");
  const std::string answer = ReadUntilClosed(fd, 5s);
  ::close(fd);
  EXPECT_EQ(answer.rfind("HTTP/1.1 401", 0), 0u) << answer;
  EXPECT_NE(answer.find("no key"), std::string::npos);
  EXPECT_NE(Exchange("POST /private HTTP/1.1\r\nX-Key: k\r\nContent-Length: 2\r\n"
                     "Connection: close\r\n\r\nok")
                .find("POST /private 2"),
            std::string::npos);
}

TEST_F(HttpServerTest, ExpectContinueGetsAnInterimAnswerBeforeTheBody) {
  Start();
  const int fd = Connect();
  ASSERT_GE(fd, 0);
  Send(fd,
       "POST /up HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n"
       "Connection: close\r\n\r\n");
  char buffer[256];
  const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buffer, static_cast<size_t>(n)).rfind("HTTP/1.1 100", 0), 0u);
  Send(fd, "abc");
  const std::string answer = ReadUntilClosed(fd);
  ::close(fd);
  EXPECT_NE(answer.find("POST /up 3"), std::string::npos) << answer;
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionsCloseAfterTheIdleTimeout) {
  HttpServerOptions options;
  options.idle_timeout = 300ms;
  Start(options);
  const int fd = Connect();
  ASSERT_GE(fd, 0);
  Send(fd, "GET /one HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto start = Clock::now();
  const std::string answer = ReadUntilClosed(fd, 5s);  // the answer, then the close
  ::close(fd);
  EXPECT_NE(answer.find("GET /one 0"), std::string::npos);
  EXPECT_LT(Clock::now() - start, 3s) << "closed by the server, not by the read's limit";
}

TEST_F(HttpServerTest, ThousandsOfIdleConnectionsDoNotDelayARequest) {
  // Each connection is a descriptor here and one in the server.
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  const int idle = static_cast<int>(std::min<rlim_t>(2000, (limit.rlim_cur - 100) / 2));
  Start();
  std::vector<int> fds;
  for (int i = 0; i < idle; ++i) {
    const int fd = Connect();
    if (fd < 0) break;
    fds.push_back(fd);
    if (i % 2 == 0) Send(fd, "GET /h HTTP/1.1\r\n");  // half of them mid-header
  }
  EXPECT_EQ(static_cast<int>(fds.size()), idle);
  const auto start = Clock::now();
  const std::string answer = Exchange("GET /now HTTP/1.1\r\nConnection: close\r\n\r\n");
  const auto took = Clock::now() - start;
  EXPECT_NE(answer.find("GET /now 0"), std::string::npos) << answer;
  EXPECT_LT(took, 1s) << "with " << idle << " idle connections held";
  EXPECT_GE(server_->connections(), fds.size());
  for (int fd : fds) ::close(fd);
}

TEST_F(HttpServerTest, PastMaxConnectionsIs503AndClose) {
  HttpServerOptions options;
  options.max_connections = 3;
  Start(options);
  std::vector<int> held;
  for (int i = 0; i < 3; ++i) held.push_back(Connect());
  std::this_thread::sleep_for(100ms);  // accepted before the next
  const std::string answer = Exchange("GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 503", 0), 0u) << answer;
  for (int fd : held) ::close(fd);
  // Room again once they are gone.
  std::string again;
  for (int i = 0; i < 50 && again.find("GET /back 0") == std::string::npos; ++i) {
    std::this_thread::sleep_for(20ms);
    again = Exchange("GET /back HTTP/1.1\r\nConnection: close\r\n\r\n");
  }
  EXPECT_NE(again.find("GET /back 0"), std::string::npos) << again;
}

TEST_F(HttpServerTest, StreamedBodiesAreSentChunkedAsTheyAreMade) {
  Start();
  const int fd = Connect();
  ASSERT_GE(fd, 0);
  const auto start = Clock::now();
  Send(fd, "GET /stream HTTP/1.1\r\nConnection: close\r\n\r\n");
  std::string received;
  Clock::duration first{};
  char buffer[1024];
  ssize_t n;
  while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) {
    received.append(buffer, static_cast<size_t>(n));
    if (first == Clock::duration{} && received.find("piece0;") != std::string::npos) {
      first = Clock::now() - start;
    }
  }
  const auto all = Clock::now() - start;
  ::close(fd);
  EXPECT_NE(received.find("Transfer-Encoding: chunked"), std::string::npos) << received;
  EXPECT_NE(received.find("piece2;"), std::string::npos) << received;
  EXPECT_NE(received.find("\r\n0\r\n\r\n"), std::string::npos) << "the last chunk";
  EXPECT_GT(first, Clock::duration{});
  EXPECT_LT(first + 250ms, all) << "the first piece came before the rest were made";
}

TEST_F(HttpServerTest, StopAnswersRequestsInFlightAndClosesIdleConnections) {
  Start();
  const int idle = Connect();
  const int busy = Connect();
  ASSERT_GE(idle, 0);
  ASSERT_GE(busy, 0);
  Send(busy, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(100ms);  // the request is in the handler
  std::thread stopper([this] { server_->Stop(); });
  const std::string answer = ReadUntilClosed(busy);
  const std::string nothing = ReadUntilClosed(idle);
  stopper.join();
  ::close(idle);
  ::close(busy);
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  EXPECT_NE(answer.find("slow answer"), std::string::npos);
  EXPECT_NE(answer.find("Connection: close"), std::string::npos);
  EXPECT_EQ(nothing, "");
  EXPECT_LT(ConnectLoopback(port_), 0) << "no longer accepting";
}

TEST_F(HttpServerTest, ByDefaultRunsOneIoThreadPerTwoCores) {
  HttpServer server({}, handler_);
  EXPECT_EQ(server.io_threads(), std::max(1u, std::thread::hardware_concurrency() / 2));
}

}  // namespace
}  // namespace botmodels
