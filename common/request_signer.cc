#include "common/request_signer.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <sodium.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "common/clock.h"
#include "common/secret_file.h"

namespace botmodels {
namespace {

void EnsureSodium() {
  static const int ok = sodium_init();  // thread-safe, idempotent
  if (ok < 0) throw std::runtime_error("libsodium failed to initialise");
}

constexpr size_t kMacBytes = 32;  // HMAC-SHA256

// An HMAC-SHA256 context keyed with `secret`, ready for updates.
std::shared_ptr<EVP_MAC_CTX> KeyedHmac(const std::string& secret) {
  std::unique_ptr<EVP_MAC, decltype(&EVP_MAC_free)> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr),
                                                        EVP_MAC_free);
  std::shared_ptr<EVP_MAC_CTX> ctx(mac ? EVP_MAC_CTX_new(mac.get()) : nullptr, EVP_MAC_CTX_free);
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_END};
  if (!ctx || EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(secret.data()),
                           secret.size(), params) != 1) {
    throw std::runtime_error("OpenSSL cannot compute HMAC-SHA256");
  }
  return ctx;
}

// Tells signers apart for ThreadHmac: a signer and its copies share one.
std::atomic<uint64_t> next_signer_id{1};

// The calling thread's HMAC context for signer `id`, ready for a message:
// duplicated from `keyed` the first time, then restarted with its key kept.
// EVP_MAC_CTX_dup costs OpenSSL 3.0 about nine heap allocations; a restart,
// two. One context per thread: a thread signing for several keys in turn
// duplicates again at each change, which costs what it did before.
EVP_MAC_CTX* ThreadHmac(uint64_t id, const EVP_MAC_CTX* keyed) {
  struct Cached {
    uint64_t id = 0;
    std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> ctx{nullptr, EVP_MAC_CTX_free};
  };
  thread_local Cached cached;
  if (cached.ctx && cached.id == id) {
    return EVP_MAC_init(cached.ctx.get(), nullptr, 0, nullptr) == 1 ? cached.ctx.get() : nullptr;
  }
  cached.ctx.reset(EVP_MAC_CTX_dup(const_cast<EVP_MAC_CTX*>(keyed)));
  cached.id = cached.ctx ? id : 0;
  return cached.ctx.get();
}

}  // namespace

struct RequestSigner::Nonces {
  unsigned char prefix[8];
  std::atomic<uint64_t> next{0};
};

RequestSigner::RequestSigner(std::string key_id, std::string secret)
    : key_id_(std::move(key_id)), secret_(std::move(secret)) {
  EnsureSodium();
  if (secret_.size() < kMinSecretBytes) {
    throw std::invalid_argument("secret shorter than " + std::to_string(kMinSecretBytes) +
                                " bytes");
  }
  keyed_ = KeyedHmac(secret_);
  id_ = next_signer_id.fetch_add(1, std::memory_order_relaxed);
  nonces_ = std::make_shared<Nonces>();
  randombytes_buf(nonces_->prefix, sizeof nonces_->prefix);
}

std::string RequestSigner::Sign(std::string_view header, std::string_view body) const {
  const auto len = static_cast<uint32_t>(header.size());
  const unsigned char prefix[4] = {
      static_cast<unsigned char>(len >> 24), static_cast<unsigned char>(len >> 16),
      static_cast<unsigned char>(len >> 8), static_cast<unsigned char>(len)};
  EVP_MAC_CTX* ctx = ThreadHmac(id_, static_cast<const EVP_MAC_CTX*>(keyed_.get()));
  std::string mac(kMacBytes, '\0');
  size_t written = 0;
  if (!ctx || EVP_MAC_update(ctx, prefix, sizeof(prefix)) != 1 ||
      EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(header.data()), header.size()) !=
          1 ||
      EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(body.data()), body.size()) != 1 ||
      EVP_MAC_final(ctx, reinterpret_cast<unsigned char*>(mac.data()), &written, mac.size()) != 1 ||
      written != kMacBytes) {
    throw std::runtime_error("OpenSSL failed to compute an HMAC");  // out of memory
  }
  return mac;
}

Status RequestSigner::Verify(std::string_view header, std::string_view body,
                             std::string_view signature) const {
  if (signature.size() != kMacBytes) {
    return {ErrorCode::kUnauthenticated, "signature must be 32 bytes"};
  }
  const std::string expected = Sign(header, body);
  if (sodium_memcmp(expected.data(), signature.data(), expected.size()) != 0) {
    return {ErrorCode::kUnauthenticated, "signature does not match"};
  }
  return {};
}

protocol::AuthHeader RequestSigner::NewHeader(std::chrono::system_clock::time_point now) const {
  protocol::AuthHeader h;
  h.key_id = key_id_;
  h.timestamp_ms = static_cast<uint64_t>(UnixMillis(now));
  const uint64_t count = nonces_->next.fetch_add(1, std::memory_order_relaxed);
  h.nonce.resize(sizeof nonces_->prefix + sizeof count);  // 16 bytes
  std::memcpy(h.nonce.data(), nonces_->prefix, sizeof nonces_->prefix);
  for (size_t i = 0; i < sizeof count; ++i) {
    h.nonce[sizeof nonces_->prefix + i] = static_cast<char>(count >> (56 - 8 * i));
  }
  return h;
}

Result<std::string> LoadSecret(const std::string& file, const std::string& env) {
  std::string secret;
  std::string source;
  if (!file.empty()) {
    auto bytes = ReadSecretFile(file);
    if (!bytes.ok()) return bytes.status();
    secret = std::move(*bytes);
    if (!secret.empty() && secret.back() == '\n') secret.pop_back();
    source = "secret file " + file;
  } else if (!env.empty()) {
    const char* value = std::getenv(env.c_str());
    if (value == nullptr) {
      return Status(ErrorCode::kUnauthenticated, "environment variable " + env + " is not set");
    }
    secret = value;
    source = "environment variable " + env;
  } else {
    return Status(ErrorCode::kUnauthenticated, "no secret configured");
  }
  if (secret.size() < RequestSigner::kMinSecretBytes) {
    return Status(
        ErrorCode::kUnauthenticated,
        source + " holds fewer than " + std::to_string(RequestSigner::kMinSecretBytes) + " bytes");
  }
  return secret;
}

}  // namespace botmodels
