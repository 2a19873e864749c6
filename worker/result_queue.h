#pragma once

#include <deque>
#include <mutex>

#include "worker/result.h"

namespace botmodels {

// Carries the executor's results to the worker's I/O thread: Deliver() from
// any thread, TakeAll() from the I/O thread, which polls fd() (an eventfd,
// readable while results wait) beside its broker socket with zmq::poll.
// The eventfd is written only when the queue turns non-empty, so a burst of
// results costs one wake-up.
class ResultQueue final : public ResultSink {
 public:
  ResultQueue();  // throws std::system_error when no eventfd can be made
  ~ResultQueue() override;
  ResultQueue(const ResultQueue&) = delete;
  ResultQueue& operator=(const ResultQueue&) = delete;

  void Deliver(WorkerResult result) override;

  // Every waiting result, oldest first; clears fd()'s readiness.
  std::deque<WorkerResult> TakeAll();

  int fd() const { return fd_; }

 private:
  const int fd_;
  std::mutex mutex_;
  std::deque<WorkerResult> results_;  // GUARDED_BY(mutex_)
};

}  // namespace botmodels
