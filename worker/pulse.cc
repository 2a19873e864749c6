#include "worker/pulse.h"

#include <pthread.h>

#include <csignal>

namespace botmodels {

Pulse::Pulse(SharedLink& link, std::chrono::milliseconds every) {
  // A thread inherits its creator's signal mask: block them all around the start.
  sigset_t all, before;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &before);
  thread_ = std::thread([this, &link, every] { Run(link, every); });
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
}

Pulse::~Pulse() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void Pulse::Run(SharedLink& link, std::chrono::milliseconds every) {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, every, [this] { return stopping_; })) {
    lock.unlock();
    link.Pulse();
    lock.lock();
  }
}

}  // namespace botmodels
