#pragma once

#include <chrono>

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

}  // namespace botmodels
