#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "worker/shared_link.h"

namespace botmodels {

// The worker's second thread: calls link.Pulse() every `every` until
// destroyed, so that heartbeats flow while the serving thread is in the
// model. It blocks signals, so that they reach the serving thread and end
// its wait.
class Pulse {
 public:
  // `link` must outlive this object.
  Pulse(SharedLink& link, std::chrono::milliseconds every);
  ~Pulse();  // stops the thread and joins it
  Pulse(const Pulse&) = delete;
  Pulse& operator=(const Pulse&) = delete;

 private:
  void Run(SharedLink& link, std::chrono::milliseconds every);

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // GUARDED_BY(mutex_)
  std::thread thread_;
};

}  // namespace botmodels
