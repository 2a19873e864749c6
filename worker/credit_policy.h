#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/clock.h"

namespace botmodels {

// The credit a worker announces (its capacity: docs/protocol.md, "Broker and
// workers") when its model.toml leaves max_inflight unset and does not batch.
// A worker holds the request running and those its credit lets wait behind
// it; when a reply frees credit, the next request needs a broker round trip
// to arrive. With forwards much shorter than that trip, a credit of two
// leaves the worker idle most of the time (the demo `double` served 2.4x
// more through the gateway with 16: docs/performance.md). So the credit
// covers a round trip of this model's forwards: 1 + kRoundTrip / forward
// (rounded up), from kMinCredit to kMaxCredit. What waits at the worker
// then takes about a round trip to run, no longer than it would have waited
// at the broker, where an idle sibling could take it; a slow model keeps two.
//
// Fixed (adapts = false) it never changes. Single-threaded: the executor's.
class CreditPolicy {
 public:
  // One runs, one waits: the credit without adapting (ModelConfig::max_inflight).
  static constexpr uint32_t kMinCredit = 2;
  // Requests one worker holds at most: a burst still spreads over siblings,
  // and one death sends at most this many to be retried.
  static constexpr uint32_t kMaxCredit = 16;
  // A reply's way to the broker and the next request's way back: less than
  // a client's whole round trip through the broker, which is 200-400 µs p50
  // at 1-16 clients on 2 vCPUs ((e) in docs/performance.md).
  static constexpr std::chrono::microseconds kRoundTrip{250};
  // Forwards averaged before the credit is looked at again: a message to the
  // broker at most every this many, and one slow forward does not swing it.
  static constexpr uint32_t kForwardsPerLook = 32;

  // `initial`: the credit of the worker's hello.
  CreditPolicy(uint32_t initial, bool adapts) : credit_(initial), adapts_(adapts) {}

  // A forward answered `requests` requests (replies sent) in `elapsed`.
  // Returns the credit to announce when it changes: by a quarter or more of
  // the current one, so that a forward time near a step does not flap.
  std::optional<uint32_t> OnForward(Clock::duration elapsed, size_t requests);

  uint32_t credit() const { return credit_; }

 private:
  uint32_t credit_;
  const bool adapts_;
  uint32_t forwards_ = 0;      // in the current look
  size_t requests_ = 0;        // answered in the current look
  Clock::duration elapsed_{};  // their forwards' time
};

}  // namespace botmodels
