#pragma once

#include <chrono>
#include <string_view>

#include "broker/replay_guard.h"
#include "common/key_ring.h"
#include "common/status.h"

namespace botmodels {

// Checks signed frames [header][body][signature] (docs/protocol.md,
// "Authentication"): a known key id, a signature that matches in constant
// time, a timestamp within the window and a nonce not seen before. Used for
// client requests and for worker registrations, each with its own keys.
//
// Not thread-safe (the broker's event loop).
class Authenticator {
 public:
  Authenticator(KeyRing keys, std::chrono::milliseconds max_clock_skew, size_t replay_cache_size);

  // The key that signed the frames, or unauthenticated. On failure *key_id
  // holds the key id the header claimed ("?" when unreadable), for the log.
  // `now_ms`: milliseconds since the Unix epoch.
  Result<const ClientKey*> Verify(std::string_view header, std::string_view body,
                                  std::string_view signature, int64_t now_ms, std::string* key_id);

  // Verify() with the system clock.
  Result<const ClientKey*> Verify(std::string_view header, std::string_view body,
                                  std::string_view signature, std::string* key_id);

 private:
  const KeyRing keys_;
  ReplayGuard replays_;
};

}  // namespace botmodels
