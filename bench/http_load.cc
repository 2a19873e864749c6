#include "bench/http_load.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace botmodels::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kResponseTimeout = std::chrono::seconds(30);  // no response this long: failed

struct Connection {
  int fd = -1;
  Clock::time_point sent;
  std::string in;  // what has arrived of the current response
};

int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
  }
  return fd;
}

// Whether `text` starts with `prefix`, in any case.
bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

// The length of the complete response at the start of `in`, or 0 while it is
// incomplete. Reads in place: the generator's cost per response stays a scan.
size_t ResponseLength(std::string_view in) {
  const size_t head = in.find("\r\n\r\n");
  if (head == std::string_view::npos) return 0;
  // The Content-Length field: at a line's start, in any case (not the end of
  // Inference-Header-Content-Length).
  constexpr std::string_view kName = "content-length:";
  size_t body = 0;
  for (size_t line = in.find("\r\n"); line < head; line = in.find("\r\n", line + 2)) {
    if (!StartsWithNoCase(in.substr(line + 2), kName)) continue;
    size_t at = line + 2 + kName.size();
    while (at < head && in[at] == ' ') ++at;
    std::from_chars(in.data() + at, in.data() + head, body);
    break;
  }
  return in.size() >= head + 4 + body ? head + 4 + body : 0;
}

}  // namespace

LoadResult RunHttpClosedLoop(int port, const std::string& request, int concurrency,
                             std::chrono::milliseconds warmup, std::chrono::milliseconds duration) {
  const double cpu_before = ProcessCpuSeconds();
  std::vector<Connection> connections(concurrency);
  // epoll, as wrk: each wait costs what is ready, not what is open.
  const int epoll = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll < 0) throw std::runtime_error("epoll_create1 failed");
  struct Closer {
    std::vector<Connection>& connections;
    int epoll;
    ~Closer() {
      for (auto& c : connections) {
        if (c.fd >= 0) ::close(c.fd);
      }
      ::close(epoll);
    }
  } closer{connections, epoll};
  const auto send = [&](Connection& c) {
    c.sent = Clock::now();
    for (size_t done = 0; done < request.size();) {
      const ssize_t n = ::send(c.fd, request.data() + done, request.size() - done, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("the gateway closed a connection");
      done += static_cast<size_t>(n);
    }
  };
  for (int i = 0; i < concurrency; ++i) {
    connections[i].fd = Connect(port);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<uint32_t>(i);
    if (::epoll_ctl(epoll, EPOLL_CTL_ADD, connections[i].fd, &ev) != 0) {
      throw std::runtime_error("epoll_ctl failed");
    }
  }
  LoadResult result;
  result.concurrency = concurrency;
  std::vector<double> latencies;
  const auto start = Clock::now() + warmup;
  const auto end = start + duration;
  for (auto& c : connections) send(c);
  int outstanding = concurrency;
  uint64_t received = 0;  // every response, the unmeasured ones too
  auto next_check = Clock::now() + std::chrono::seconds(1);
  std::vector<epoll_event> ready(concurrency);
  char buffer[64 * 1024];
  while (outstanding > 0) {
    const int events = ::epoll_wait(epoll, ready.data(), concurrency, 1000);
    if (events < 0 && errno != EINTR) throw std::runtime_error("epoll_wait failed");
    const auto now = Clock::now();
    if (now >= next_check) {  // once a second, not per wake-up: a silent connection fails the run
      for (const Connection& c : connections) {
        if (now - c.sent > kResponseTimeout) throw std::runtime_error("no HTTP response in 30 s");
      }
      next_check = now + std::chrono::seconds(1);
    }
    for (int e = 0; e < events; ++e) {
      const int i = static_cast<int>(ready[e].data.u32);
      Connection& c = connections[i];
      const ssize_t n = ::recv(c.fd, buffer, sizeof buffer, 0);
      if (n <= 0) {
        throw std::runtime_error("the gateway closed a connection (" +
                                 std::string(n < 0 ? std::strerror(errno) : "EOF") + ") after " +
                                 std::to_string(result.replies) +
                                 " replies; pending: " + c.in.substr(0, 300));
      }
      c.in.append(buffer, static_cast<size_t>(n));
      const size_t length = ResponseLength(c.in);
      if (length == 0) continue;
      ++received;
      const bool ok = c.in.compare(0, 12, "HTTP/1.1 200") == 0;
      c.in.erase(0, length);
      if (now >= start && now < end) {
        ++result.replies;
        if (!ok) ++result.errors;
        latencies.push_back(std::chrono::duration<double, std::micro>(now - c.sent).count());
      }
      if (now < end) {
        send(c);
      } else {
        --outstanding;
        c.sent = Clock::time_point::max();  // answered: no longer waited for
        ::epoll_ctl(epoll, EPOLL_CTL_DEL, c.fd, nullptr);
      }
    }
  }
  Summarize(std::move(latencies), duration, result);
  result.client_cpu_us = (ProcessCpuSeconds() - cpu_before) / static_cast<double>(received) * 1e6;
  return result;
}

}  // namespace botmodels::bench
