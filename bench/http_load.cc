#include "bench/http_load.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
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

// The length of the complete response at the start of `in`, or 0 while it is incomplete.
size_t ResponseLength(const std::string& in) {
  const size_t head = in.find("\r\n\r\n");
  if (head == std::string::npos) return 0;
  // The Content-Length field: at a line's start, in any case (not the end of
  // Inference-Header-Content-Length).
  std::string fields = in.substr(0, head);
  std::transform(fields.begin(), fields.end(), fields.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  size_t body = 0;
  constexpr std::string_view kName = "\r\ncontent-length:";
  if (const size_t at = fields.find(kName); at != std::string::npos) {
    body = std::stoul(fields.substr(at + kName.size()));
  }
  return in.size() >= head + 4 + body ? head + 4 + body : 0;
}

}  // namespace

LoadResult RunHttpClosedLoop(int port, const std::string& request, int concurrency,
                             std::chrono::milliseconds warmup, std::chrono::milliseconds duration) {
  std::vector<Connection> connections(concurrency);
  std::vector<pollfd> items(concurrency);
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
    items[i] = {connections[i].fd, POLLIN, 0};
  }
  LoadResult result;
  result.concurrency = concurrency;
  std::vector<double> latencies;
  const auto start = Clock::now() + warmup;
  const auto end = start + duration;
  for (auto& c : connections) send(c);
  int outstanding = concurrency;
  char buffer[64 * 1024];
  while (outstanding > 0) {
    if (::poll(items.data(), items.size(), 1000) < 0) throw std::runtime_error("poll failed");
    const auto now = Clock::now();
    for (int i = 0; i < concurrency; ++i) {
      Connection& c = connections[i];
      if (items[i].fd < 0) continue;
      if (!(items[i].revents & (POLLIN | POLLHUP | POLLERR))) {
        if (now - c.sent > kResponseTimeout) throw std::runtime_error("no HTTP response in 30 s");
        continue;
      }
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
        items[i].fd = -1;  // poll ignores it from now on
      }
    }
  }
  for (auto& c : connections) ::close(c.fd);
  Summarize(std::move(latencies), duration, result);
  return result;
}

}  // namespace botmodels::bench
