#pragma once

#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "gateway/http/http_message.h"

namespace botmodels {

// A response body whose pieces arrive from elsewhere (a model's streamed
// replies) and leave as the client reads: Push() from any thread, Next()
// from the server. Pieces waiting when Next() comes are sent together.
// Sent chunked. Thread-safe.
class StreamSource : public BodySource {
 public:
  std::optional<uint64_t> size() const override { return std::nullopt; }
  void Next(std::function<void(Result<std::string>)> done) override;

  void Push(std::string piece);
  void End();               // after the pieces pushed so far
  void Fail(Status error);  // at once: the connection is cut short

 private:
  // Answers a waiting Next() if there is something to answer; unlocks.
  void Answer(std::unique_lock<std::mutex>& lock);

  std::mutex mutex_;  // guards the fields below
  std::deque<std::string> pieces_;
  bool ended_ = false;
  std::optional<Status> failed_;
  std::function<void(Result<std::string>)> waiting_;  // a Next() not yet answered
};

}  // namespace botmodels
