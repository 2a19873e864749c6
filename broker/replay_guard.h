#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <string_view>
#include <unordered_set>

#include "common/status.h"

namespace botmodels {

// Refuses signed messages whose timestamp is outside the clock-skew window,
// and repeats of a (key id, nonce) pair within it. Memory is bounded: at
// `capacity` pairs the first remembered is forgotten, and from then on
// nothing as old as it is accepted, so a replay is never let through, only
// refused sooner. Pairs are kept as keyed 128-bit BLAKE2b digests (~100
// bytes each), in arrival order: timestamps arrive nearly in order, so the
// front holds the oldest but for clock skew, and a pair is forgotten no
// sooner than its timestamp allows (a FIFO, not a heap: no log n sift
// through a million entries per request).
//
// Not thread-safe (the broker's event loop).
class ReplayGuard {
 public:
  ReplayGuard(std::chrono::milliseconds window, size_t capacity);

  // OK and remembered when fresh; unauthenticated when stale or a repeat.
  // Times are milliseconds since the Unix epoch.
  Status Admit(std::string_view key_id, std::string_view nonce, int64_t timestamp_ms,
               int64_t now_ms);

  size_t size() const { return seen_.size(); }

 private:
  using Digest = std::array<uint8_t, 16>;
  struct DigestHash {
    size_t operator()(const Digest& d) const;
  };
  struct Entry {
    int64_t timestamp_ms;
    Digest digest;
  };

  Digest DigestOf(std::string_view key_id, std::string_view nonce) const;
  void PopFront();

  const int64_t window_ms_;
  const size_t capacity_;
  std::array<uint8_t, 32> hash_key_;  // random per process
  int64_t floor_ms_ = INT64_MIN;      // timestamps at or below this are refused
  std::deque<Entry> by_arrival_;
  std::unordered_set<Digest, DigestHash> seen_;
};

}  // namespace botmodels
