#pragma once

#include <chrono>
#include <cstdint>

namespace botmodels {

// Monotonic time, behind an interface so that routing, heartbeat and backoff
// logic can be tested with a fake clock and no sleeps.
class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using duration = std::chrono::steady_clock::duration;
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

class SteadyClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
};

// Wall-clock milliseconds since the Unix epoch: what signed headers carry
// and what `ping` reports. Not monotonic: for timestamps, never for intervals.
inline int64_t UnixMillis(
    std::chrono::system_clock::time_point t = std::chrono::system_clock::now()) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace botmodels
