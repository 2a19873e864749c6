#include "broker/log_limiter.h"

#include <algorithm>

namespace botmodels {

LogLimiter::LogLimiter(std::chrono::milliseconds interval, int burst, size_t max_sources)
    : interval_(interval), burst_(burst), max_sources_(max_sources) {}

bool LogLimiter::Allow(const std::string& source, Clock::TimePoint now, uint64_t* suppressed) {
  static const std::string kOthers = "*";  // the shared budget once the map is full
  auto it = buckets_.find(source);
  if (it == buckets_.end()) {
    const bool full = buckets_.size() >= max_sources_;
    it = buckets_.try_emplace(full ? kOthers : source, Bucket{double(burst_), now, 0}).first;
  }
  Bucket& b = it->second;
  const double earned = std::chrono::duration<double>(now - b.refilled) / interval_;
  b.tokens = std::min<double>(burst_, b.tokens + earned);
  b.refilled = now;
  if (b.tokens < 1) {
    ++b.suppressed;
    return false;
  }
  b.tokens -= 1;
  *suppressed = b.suppressed;
  b.suppressed = 0;
  return true;
}

}  // namespace botmodels
