#include "gateway/stream_source.h"

namespace botmodels {

void StreamSource::Next(std::function<void(Result<std::string>)> done) {
  std::unique_lock lock(mutex_);
  waiting_ = std::move(done);
  Answer(lock);
}

void StreamSource::Push(std::string piece) {
  if (piece.empty()) return;  // empty means the end to the server
  std::unique_lock lock(mutex_);
  pieces_.push_back(std::move(piece));
  Answer(lock);
}

void StreamSource::End() {
  std::unique_lock lock(mutex_);
  ended_ = true;
  Answer(lock);
}

void StreamSource::Fail(Status error) {
  std::unique_lock lock(mutex_);
  failed_ = std::move(error);
  Answer(lock);
}

void StreamSource::Answer(std::unique_lock<std::mutex>& lock) {
  if (!waiting_) return;
  Result<std::string> answer = std::string();
  if (failed_) {
    answer = *failed_;
  } else if (!pieces_.empty()) {
    std::string joined = std::move(pieces_.front());
    pieces_.pop_front();
    for (; !pieces_.empty(); pieces_.pop_front()) joined += pieces_.front();
    answer = std::move(joined);
  } else if (!ended_) {
    return;  // nothing yet: answered when something comes
  }
  auto done = std::move(waiting_);
  waiting_ = nullptr;
  lock.unlock();
  done(std::move(answer));
}

}  // namespace botmodels
