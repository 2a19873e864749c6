#include "worker/result_queue.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace botmodels {
namespace {

int MakeEventFd() {
  const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  return fd;
}

}  // namespace

ResultQueue::ResultQueue() : fd_(MakeEventFd()) {}

ResultQueue::~ResultQueue() { ::close(fd_); }

void ResultQueue::Deliver(WorkerResult result) {
  bool was_empty;
  {
    std::lock_guard lock(mutex_);
    was_empty = results_.empty();
    results_.push_back(std::move(result));
  }
  if (was_empty) {
    const uint64_t one = 1;
    // Cannot fail short of a counter overflow, which TakeAll's reads rule out.
    [[maybe_unused]] ssize_t n = ::write(fd_, &one, sizeof one);
  }
}

std::deque<WorkerResult> ResultQueue::TakeAll() {
  std::deque<WorkerResult> taken;
  std::lock_guard lock(mutex_);
  uint64_t count;
  [[maybe_unused]] ssize_t n = ::read(fd_, &count, sizeof count);  // EAGAIN when not signalled
  taken.swap(results_);
  return taken;
}

}  // namespace botmodels
