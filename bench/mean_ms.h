#pragma once

#include <chrono>
#include <functional>

namespace botmodels {

// Calls `run` for about `seconds`, and at least `min_calls` times, after one
// warm-up call: the mean time of a call, in ms. For the in-process benches.
inline double MeanMs(double seconds, const std::function<void()>& run, int min_calls = 3) {
  using Clock = std::chrono::steady_clock;
  run();
  const auto start = Clock::now();
  int calls = 0;
  double elapsed = 0;
  while (elapsed < seconds || calls < min_calls) {
    run();
    ++calls;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  return 1000 * elapsed / calls;
}

}  // namespace botmodels
