#include "broker/authenticator.h"

#include "common/clock.h"
#include "common/codec.h"

namespace botmodels {

Authenticator::Authenticator(KeyRing keys, std::chrono::milliseconds max_clock_skew,
                             size_t replay_cache_size)
    : keys_(std::move(keys)), replays_(max_clock_skew, replay_cache_size) {}

Result<const ClientKey*> Authenticator::Verify(std::string_view header_bytes, std::string_view body,
                                               std::string_view signature, int64_t now_ms,
                                               std::string* key_id) {
  *key_id = "?";
  auto header = codec::DecodeAuthHeader(header_bytes);
  if (!header.ok()) {
    return Status(ErrorCode::kUnauthenticated, "bad auth header: " + header.status().message());
  }
  *key_id = header->key_id;
  // Verify before trusting anything else the peer chose: a forged timestamp
  // or nonce is as bad as a forged body.
  const ClientKey* key = keys_.Find(header->key_id);
  if (!key || !key->signer.Verify(header_bytes, body, signature).ok()) {
    return Status(ErrorCode::kUnauthenticated, "signature does not match (wrong key or secret)");
  }
  if (Status s = replays_.Admit(header->key_id, header->nonce,
                                static_cast<int64_t>(header->timestamp_ms), now_ms);
      !s.ok()) {
    return s;
  }
  return key;
}

Result<const ClientKey*> Authenticator::Verify(std::string_view header, std::string_view body,
                                               std::string_view signature, std::string* key_id) {
  return Verify(header, body, signature, UnixMillis(), key_id);
}

}  // namespace botmodels
