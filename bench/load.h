#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <zmq.hpp>

namespace botmodels::bench {

// One closed-loop run: what `concurrency` clients achieved together.
struct LoadResult {
  int concurrency = 0;
  uint64_t replies = 0;  // in the measured window
  uint64_t errors = 0;   // replies that were not a success
  double seconds = 0;    // the measured window
  double p50_us = 0, p90_us = 0, p99_us = 0;
  double per_second = 0;      // replies per second
  double server_cpu_us = 0;   // CPU time the serving processes spent per reply, µs
  double gateway_cpu_us = 0;  // the gateway's share of server_cpu_us; 0 without one
  double client_cpu_us = 0;   // the load generator's process's CPU time per reply, µs
};

// The frames of the next request of client `slot` (0 .. concurrency-1),
// whose id names the slot. Called once per request, so that each carries a
// fresh nonce (the broker refuses a replayed one).
using MakeFrames = std::function<std::vector<std::string>(int slot)>;
// What a reply frame says: the slot it answers and whether it succeeded.
struct ReplyInfo {
  int slot = 0;
  bool ok = false;
};
using ReadReply = std::function<std::optional<ReplyInfo>(std::string_view frame)>;

// Fills `result`'s seconds, per_second and percentiles from the latencies
// (µs) of its measured replies, `duration` long.
void Summarize(std::vector<double> latencies, std::chrono::milliseconds duration,
               LoadResult& result);

// This process's CPU time, all its threads (a load generator's and
// ZeroMQ's I/O thread's), in seconds.
double ProcessCpuSeconds();

// Closed-loop load: `concurrency` clients, each with one request
// outstanding, sending the next as soon as its reply arrives. They share one
// DEALER socket and run on the calling thread, so the load generator costs
// the same whatever it measures. The first `warmup` is not measured.
LoadResult RunClosedLoop(zmq::context_t& context, const std::string& endpoint, int concurrency,
                         std::chrono::milliseconds warmup, std::chrono::milliseconds duration,
                         const MakeFrames& make, const ReadReply& read);

}  // namespace botmodels::bench
