#pragma once

#include <atomic>
#include <thread>
#include <vector>

namespace botmodels::bench {

// Hostile clients held against an HTTP server while its normal load is
// measured: `idle` connections that send nothing (keep-alive clients between
// requests) and `slow` ones that send a request's headers a line at a time
// (slowloris), one line per connection per second, never finishing. Raises
// this process's open-file limit to its hard limit first.
class HeldConnections {
 public:
  HeldConnections(int port, int idle, int slow);
  ~HeldConnections();  // closes them all

  // Connections the server has not closed yet (it may cut slow ones at its
  // header timeout, and idle ones at its idle timeout).
  int open() const;

 private:
  void Trickle();

  std::vector<int> fds_;  // the idle ones, then the slow ones
  size_t first_slow_ = 0;
  std::atomic<bool> stop_{false};
  std::thread trickler_;
};

}  // namespace botmodels::bench
