#include "bench/held_connections.h"

#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>

#include "testing/loopback.h"

namespace botmodels::bench {
namespace {

using namespace std::chrono_literals;

constexpr auto kLineEvery = 1s;  // each slow connection sends a header line this often

void RaiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

}  // namespace

HeldConnections::HeldConnections(int port, int idle, int slow) {
  RaiseOpenFileLimit();
  for (int i = 0; i < idle + slow; ++i) {
    const int fd = testing::ConnectLoopback(port);
    if (fd < 0) {
      for (int open : fds_) ::close(open);
      throw std::runtime_error("could not hold " + std::to_string(idle + slow) +
                               " connections (open-file limit?); " + std::to_string(i) + " opened");
    }
    fds_.push_back(fd);
  }
  first_slow_ = static_cast<size_t>(idle);
  const std::string start = "POST /api/infer/double HTTP/1.1\r\nHost: bench\r\n";
  for (size_t i = first_slow_; i < fds_.size(); ++i) {
    (void)::send(fds_[i], start.data(), start.size(), MSG_NOSIGNAL);
  }
  trickler_ = std::thread([this] { Trickle(); });
}

HeldConnections::~HeldConnections() {
  stop_ = true;
  trickler_.join();
  for (int fd : fds_) ::close(fd);
}

void HeldConnections::Trickle() {
  int line = 0;
  while (!stop_) {
    const auto next = std::chrono::steady_clock::now() + kLineEvery;
    const std::string header = "X-Slow-" + std::to_string(line++) + ": 1\r\n";
    for (size_t i = first_slow_; i < fds_.size() && !stop_; ++i) {
      (void)::send(fds_[i], header.data(), header.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    while (!stop_ && std::chrono::steady_clock::now() < next) std::this_thread::sleep_for(20ms);
  }
}

int HeldConnections::open() const {
  int open = 0;
  for (int fd : fds_) {
    pollfd item{fd, POLLIN, 0};
    // Readable means the server answered (408) or closed: no longer held.
    if (::poll(&item, 1, 0) == 0) ++open;
  }
  return open;
}

}  // namespace botmodels::bench
