#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "common/clock.h"

namespace botmodels {

// Rate-limits log lines per source (a peer address), so a peer that fails
// authentication in a loop cannot flood the log: `burst` lines at once, then
// one per `interval`. Each allowed line learns how many were suppressed
// before it. At most `max_sources` sources are tracked; past that, new ones
// share one budget.
//
// Not thread-safe (the broker's event loop).
class LogLimiter {
 public:
  LogLimiter(std::chrono::milliseconds interval, int burst, size_t max_sources);

  // Whether to log an event from `source` now. When true, *suppressed gets
  // the number of this source's events dropped since its last logged one.
  bool Allow(const std::string& source, Clock::TimePoint now, uint64_t* suppressed);

 private:
  struct Bucket {
    double tokens = 0;
    Clock::TimePoint refilled;
    uint64_t suppressed = 0;
  };

  const std::chrono::milliseconds interval_;
  const int burst_;
  const size_t max_sources_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace botmodels
