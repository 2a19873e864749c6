#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "common/protocol.h"
#include "common/status.h"

namespace botmodels {

// Signs and verifies client requests with HMAC-SHA256 over the exact frame
// bytes (docs/protocol.md, "Authentication"):
//   signature = HMAC-SHA256(secret, u32_be(len(header)) || header || body)
// Thread-compatible: const methods may run concurrently. The secret is kept in
// memory only and never printed.
class RequestSigner {
 public:
  // `secret` must hold at least kMinSecretBytes bytes.
  RequestSigner(std::string key_id, std::string secret);

  static constexpr size_t kMinSecretBytes = 16;  // 128 bits

  const std::string& key_id() const { return key_id_; }
  // The secret, to hand to a client of the same key; never log it.
  const std::string& secret() const { return secret_; }

  // The 32-byte signature of a header frame and body frame.
  std::string Sign(std::string_view header, std::string_view body) const;

  // OK when `signature` matches, in constant time; unauthenticated otherwise.
  Status Verify(std::string_view header, std::string_view body, std::string_view signature) const;

  // A header for a request signed now, with a nonce never used before: 8
  // random bytes drawn once per signer (and its copies), then a counter, so
  // that signing costs no system call for randomness. The nonce only has to
  // be unique; the HMAC, not its unpredictability, keeps it from forgery.
  protocol::AuthHeader NewHeader(std::chrono::system_clock::time_point now) const;

 private:
  std::string key_id_;
  std::string secret_;
  // HMAC keyed with secret_, copied for each message (the key schedule is
  // done once). Shared by copies of this signer; only ever read.
  std::shared_ptr<const void> keyed_;
  uint64_t id_ = 0;  // this signer's and its copies', for each thread's copy of keyed_
  struct Nonces;     // the random prefix and the counter, shared by copies
  std::shared_ptr<Nonces> nonces_;
};

// Reads a secret: the file's bytes (one trailing newline dropped; the file
// must not be open to others) when `file` is set, else the
// environment variable `env`. Fails when neither yields at least
// RequestSigner::kMinSecretBytes bytes. Messages name the source, never the value.
Result<std::string> LoadSecret(const std::string& file, const std::string& env);

}  // namespace botmodels
