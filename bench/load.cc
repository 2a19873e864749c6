#include "bench/load.h"

#include <algorithm>
#include <ctime>
#include <stdexcept>

namespace botmodels::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kReplyTimeout{30'000};  // no reply this long: the run failed

double Percentile(std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const auto i = static_cast<size_t>(q * static_cast<double>(sorted.size() - 1));
  return sorted[i];
}

}  // namespace

LoadResult RunClosedLoop(zmq::context_t& context, const std::string& endpoint, int concurrency,
                         std::chrono::milliseconds warmup, std::chrono::milliseconds duration,
                         const MakeFrames& make, const ReadReply& read) {
  const double cpu_before = ProcessCpuSeconds();
  zmq::socket_t socket(context, zmq::socket_type::dealer);
  socket.set(zmq::sockopt::linger, 0);
  socket.set(zmq::sockopt::sndhwm, 0);  // the window is `concurrency`: never drop or block
  socket.set(zmq::sockopt::rcvhwm, 0);
  socket.connect(endpoint);
  std::vector<Clock::time_point> sent(concurrency);
  auto send = [&](int slot) {
    const std::vector<std::string> frames = make(slot);
    for (size_t f = 0; f < frames.size(); ++f) {
      socket.send(zmq::buffer(frames[f]),
                  f + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
    sent[slot] = Clock::now();
  };
  for (int slot = 0; slot < concurrency; ++slot) send(slot);

  LoadResult result;
  result.concurrency = concurrency;
  std::vector<double> latencies;
  const auto start = Clock::now() + warmup;
  const auto end = start + duration;
  auto last_reply = Clock::now();
  int outstanding = concurrency;
  uint64_t received = 0;  // every reply, the unmeasured ones too
  zmq::message_t reply;
  while (outstanding > 0) {
    const auto now = Clock::now();
    if (!socket.recv(reply, zmq::recv_flags::dontwait)) {
      if (now - last_reply > kReplyTimeout) {
        throw std::runtime_error("no reply from " + endpoint + " for 30 s");
      }
      zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(100));
      continue;
    }
    last_reply = now;
    ++received;
    const auto info = read(reply.to_string_view());
    if (!info || info->slot < 0 || info->slot >= concurrency) {
      throw std::runtime_error("an unreadable reply from " + endpoint);
    }
    if (now >= start && now < end) {
      ++result.replies;
      if (!info->ok) ++result.errors;
      latencies.push_back(
          std::chrono::duration<double, std::micro>(now - sent[info->slot]).count());
    }
    if (now < end) {
      send(info->slot);
    } else {
      --outstanding;  // past the window: let the requests still out finish
    }
  }
  Summarize(std::move(latencies), duration, result);
  result.client_cpu_us = (ProcessCpuSeconds() - cpu_before) / static_cast<double>(received) * 1e6;
  return result;
}

double ProcessCpuSeconds() {
  timespec t{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

void Summarize(std::vector<double> latencies, std::chrono::milliseconds duration,
               LoadResult& result) {
  result.seconds = std::chrono::duration<double>(duration).count();
  result.per_second = static_cast<double>(result.replies) / result.seconds;
  std::sort(latencies.begin(), latencies.end());
  result.p50_us = Percentile(latencies, 0.50);
  result.p90_us = Percentile(latencies, 0.90);
  result.p99_us = Percentile(latencies, 0.99);
}

}  // namespace botmodels::bench
