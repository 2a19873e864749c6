#include "common/key_ring.h"

#include <cstdlib>

#include "common/secret_file.h"
#include "common/toml_reader.h"

namespace botmodels {

Status KeyRing::Add(ClientKey key) {
  if (Find(key.id()))
    return {ErrorCode::kInvalidRequest, "key id '" + key.id() + "' appears twice"};
  keys_.push_back(std::move(key));
  return {};
}

const ClientKey* KeyRing::Find(std::string_view id) const {
  for (const ClientKey& key : keys_) {
    if (key.id() == id) return &key;
  }
  return nullptr;
}

Result<KeyRing> LoadKeysFile(const std::string& path) {
  auto table = ParseSecretTomlFile(path);
  if (!table.ok()) return table.status();
  TomlReader root(path, *table);
  if (Status s = root.RejectUnknown({"key"}); !s.ok()) return s;
  auto entries = root.TableArray("key");
  if (!entries.ok()) return entries.status();
  KeyRing ring;
  for (const TomlReader& entry : *entries) {
    std::string id, role_name, secret;
    for (Status s :
         {entry.RejectUnknown({"id", "role", "secret"}), entry.String("id", &id, true),
          entry.String("role", &role_name, true), entry.String("secret", &secret, true)}) {
      if (!s.ok()) return s;
    }
    auto role = protocol::ParseRole(role_name);
    if (!role) return entry.Error("role", "must be \"infer\" or \"admin\"");
    if (id.empty()) return entry.Error("id", "must not be empty");
    if (secret.size() < RequestSigner::kMinSecretBytes) {
      return entry.Error("secret", "must hold at least " +
                                       std::to_string(RequestSigner::kMinSecretBytes) + " bytes");
    }
    if (Status s = ring.Add({RequestSigner(id, std::move(secret)), *role}); !s.ok()) {
      return entry.Error("id", s.message());
    }
  }
  if (ring.empty()) return root.Error("key", "declare at least one [[key]]");
  return ring;
}

Result<KeyRing> LoadKeyRing(const AuthConfig& auth) {
  KeyRing ring;
  if (!auth.keys_file.empty()) {
    auto loaded = LoadKeysFile(auth.keys_file);
    if (!loaded.ok()) return loaded.status();
    ring = std::move(*loaded);
  }
  if (!auth.secret_env.empty() && std::getenv(auth.secret_env.c_str())) {
    auto secret = LoadSecret("", auth.secret_env);
    if (!secret.ok()) return secret.status();
    if (Status s = ring.Add({RequestSigner(auth.key_id, std::move(*secret)), auth.key_role});
        !s.ok()) {
      return Status(ErrorCode::kInvalidRequest,
                    "environment variable " + auth.secret_env + ": " + s.message());
    }
  }
  if (ring.empty()) {
    return Status(ErrorCode::kUnauthenticated,
                  "no client keys: set [auth] keys_file, or the environment variable " +
                      (auth.secret_env.empty() ? std::string("of secret_env") : auth.secret_env));
  }
  return ring;
}

}  // namespace botmodels
