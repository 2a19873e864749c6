#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/broker_config.h"
#include "common/protocol.h"
#include "common/request_signer.h"
#include "common/status.h"

namespace botmodels {

// A client key: its id, what it may do, and the signer holding its secret.
struct ClientKey {
  RequestSigner signer;
  protocol::Role role = protocol::Role::kInfer;

  const std::string& id() const { return signer.key_id(); }
};

// The client keys the broker accepts at once, so a secret can be rotated
// without downtime: add the new key, move the clients, remove the old one.
// Immutable once loaded; thread-compatible.
class KeyRing {
 public:
  // Fails when a key with the same id is already present.
  Status Add(ClientKey key);

  // The key with this id, or nullptr.
  const ClientKey* Find(std::string_view id) const;

  const std::vector<ClientKey>& keys() const { return keys_; }
  bool empty() const { return keys_.empty(); }

 private:
  std::vector<ClientKey> keys_;
};

// Reads a keys file (docs/security.md): [[key]] tables of id, role, secret.
// The file must not be open to others (see ReadSecretFile). Errors name the file, line
// and field, never a secret.
Result<KeyRing> LoadKeysFile(const std::string& path);

// The keys `auth` configures: those of keys_file, plus key_id with the secret
// in the environment variable secret_env when it is set. Fails when there are
// none, or the same id comes from both.
Result<KeyRing> LoadKeyRing(const AuthConfig& auth);

}  // namespace botmodels
