#pragma once

#include <chrono>
#include <string>

#include "common/protocol.h"

namespace botmodels {

// When a client with failover endpoints pings its broker, and when it takes
// it for dead (docs/operations.md, "Failover"): the state that Client and
// the gateway's BrokerHop lanes share. Silence counts only while requests
// wait. Not thread-safe.
class BrokerWatch {
 public:
  using Time = std::chrono::steady_clock::time_point;
  enum class Action { kWait, kPing, kMoveOn };

  // `dead_after`: the silence that marks a broker dead; a ping goes out
  // after a quarter of it, and again each quarter while unanswered.
  explicit BrokerWatch(std::chrono::milliseconds dead_after) : dead_after_(dead_after) {}

  // How often Check() should run while requests wait.
  std::chrono::milliseconds tick() const { return dead_after_ / 4; }

  // A request went out; `first`: none was waiting, so silence counts from now.
  void Sent(bool first, Time now) {
    if (first) heard_ = now;
  }
  // Any frame came from the broker.
  void Heard(Time now) { heard_ = now; }
  // True for the reply to our ping (which is then no longer awaited).
  bool IsPingReply(const std::string& id);

  // What to do at `now` while requests wait. kPing: send Ping()'s request;
  // kMoveOn: connect to the next broker, then Reset().
  Action Check(Time now) const;
  // A `ping` request with `id`, awaited from `now`.
  protocol::Request Ping(std::string id, Time now);
  // A fresh broker: silence counts from `now`, no ping awaited.
  void Reset(Time now);

 private:
  const std::chrono::milliseconds dead_after_;
  Time heard_;           // the broker's last frame, or the first request since
  std::string ping_id_;  // "" when no ping awaits its reply
  Time ping_sent_;
};

}  // namespace botmodels
