#include "broker/replay_guard.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace botmodels {

size_t ReplayGuard::DigestHash::operator()(const Digest& d) const {
  size_t h;
  std::memcpy(&h, d.data(), sizeof h);  // the digest is already uniform
  return h;
}

ReplayGuard::ReplayGuard(std::chrono::milliseconds window, size_t capacity)
    : window_ms_(window.count()), capacity_(std::max<size_t>(capacity, 1)) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialize");
  randombytes_buf(hash_key_.data(), hash_key_.size());
}

ReplayGuard::Digest ReplayGuard::DigestOf(std::string_view key_id, std::string_view nonce) const {
  // u32 length of the key id first, so ("ab","c") and ("a","bc") differ.
  const uint32_t length = static_cast<uint32_t>(key_id.size());
  crypto_generichash_state state;
  crypto_generichash_init(&state, hash_key_.data(), hash_key_.size(), sizeof(Digest));
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(&length), sizeof length);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(key_id.data()),
                            key_id.size());
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(nonce.data()),
                            nonce.size());
  Digest digest;
  crypto_generichash_final(&state, digest.data(), digest.size());
  return digest;
}

void ReplayGuard::PopFront() {
  seen_.erase(by_arrival_.front().digest);
  by_arrival_.pop_front();
}

Status ReplayGuard::Admit(std::string_view key_id, std::string_view nonce, int64_t timestamp_ms,
                          int64_t now_ms) {
  const int64_t skew = now_ms - timestamp_ms;
  if (skew > window_ms_ || skew < -window_ms_) {
    return {ErrorCode::kUnauthenticated, "timestamp is " + std::to_string(skew) +
                                             " ms away from the broker's clock (window " +
                                             std::to_string(window_ms_) + " ms)"};
  }
  // Pairs older than the window can go: their timestamps are refused above.
  while (!by_arrival_.empty() && by_arrival_.front().timestamp_ms < now_ms - window_ms_) {
    PopFront();
  }
  if (timestamp_ms <= floor_ms_) {
    // The client did nothing wrong: signed afresh (a newer timestamp), it passes.
    return Status(ErrorCode::kUnauthenticated,
                  "timestamp is older than the replay cache remembers (replay_cache_size is "
                  "full): sign the request afresh and send it again")
        .WithRetryable(true);
  }
  const Digest digest = DigestOf(key_id, nonce);
  if (!seen_.insert(digest).second) {
    return {ErrorCode::kUnauthenticated, "replayed request: this nonce was already used"};
  }
  by_arrival_.push_back({timestamp_ms, digest});
  while (by_arrival_.size() > capacity_) {
    floor_ms_ = std::max(floor_ms_, by_arrival_.front().timestamp_ms);
    PopFront();
  }
  return {};
}

}  // namespace botmodels
