#include "broker/credentials.h"

#include <sodium.h>

#include "common/request_signer.h"
#include "common/secret_file.h"

namespace botmodels {
namespace {

std::string RandomSecret() {
  constexpr size_t kBytes = 32;  // 256 bits
  unsigned char bytes[kBytes];
  randombytes_buf(bytes, kBytes);
  char hex[2 * kBytes + 1];
  sodium_bin2hex(hex, sizeof hex, bytes, kBytes);
  return hex;
}

Result<std::string> WorkerSecret(const AuthConfig& auth) {
  if (auth.worker_secret_file.empty()) return RandomSecret();
  auto secret = ReadSecretFile(auth.worker_secret_file);
  if (!secret.ok()) return secret.status();
  if (!secret->empty() && secret->back() == '\n') secret->pop_back();
  if (secret->size() < RequestSigner::kMinSecretBytes) {
    return Status(ErrorCode::kUnauthenticated, auth.worker_secret_file + " holds fewer than " +
                                                   std::to_string(RequestSigner::kMinSecretBytes) +
                                                   " bytes");
  }
  return *secret;
}

}  // namespace

Result<BrokerCredentials> LoadCredentials(const BrokerConfig& config) {
  if (sodium_init() < 0) return Status(ErrorCode::kInternal, "libsodium failed to initialize");
  BrokerCredentials c;
  if (config.auth.mode == AuthMode::kHmac) {
    auto keys = LoadKeyRing(config.auth);
    if (!keys.ok()) return keys.status();
    c.client_keys = std::move(*keys);
  }
  auto worker_secret = WorkerSecret(config.auth);
  if (!worker_secret.ok()) return worker_secret.status();
  c.worker_secret = std::move(*worker_secret);

  const CurveConfig& curve = config.curve;
  if (!curve.frontend && !curve.backend) return c;
  auto key = LoadCurveSecretKey(curve.secret_key_file);
  if (!key.ok()) return key.status();
  c.curve_key = std::move(*key);
  if (curve.frontend) {
    auto clients = LoadCurveAllowlist(curve.client_keys);
    if (!clients.ok()) return clients.status();
    c.client_curve_keys = std::move(*clients);
  }
  if (curve.backend) {
    if (!curve.worker_keys.empty()) {
      auto workers = LoadCurveAllowlist(curve.worker_keys);
      if (!workers.ok()) return workers.status();
      c.worker_curve_keys = std::move(*workers);
    }
    c.local_worker_key = NewCurveKeyPair();
    c.worker_curve_keys.insert(c.local_worker_key->public_key);
  }
  return c;
}

}  // namespace botmodels
