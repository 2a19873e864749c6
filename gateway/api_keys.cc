#include "gateway/api_keys.h"

#include <sodium.h>

#include <algorithm>

#include "common/toml_reader.h"

namespace botmodels {
namespace {

// SHA-256 by libsodium: no allocation, where OpenSSL 3's SHA256() looks the
// algorithm up by name and allocates a context for every request's key.
std::array<uint8_t, 32> Digest(std::string_view bytes) {
  static_assert(crypto_hash_sha256_BYTES == 32);
  std::array<uint8_t, 32> digest;
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size());
  return digest;
}

}  // namespace

Status ApiKeys::Add(std::string id, protocol::Role role, std::string_view key) {
  if (id.empty()) return InvalidRequest("a key's id must not be empty");
  for (const ApiKey& k : keys_) {
    if (k.id == id) return InvalidRequest("key id '" + id + "' appears twice");
  }
  if (key.size() < kMinKeyBytes) {
    return InvalidRequest("key '" + id + "' must hold at least " + std::to_string(kMinKeyBytes) +
                          " bytes");
  }
  keys_.push_back({std::move(id), role, Digest(key)});
  return {};
}

Result<ApiKeys> ApiKeys::Load(const std::string& path) {
  auto table = ParseSecretTomlFile(path);
  if (!table.ok()) return table.status();
  TomlReader root(path, *table);
  BOTMODELS_RETURN_IF_ERROR(root.RejectUnknown({"key"}));
  auto entries = root.TableArray("key");
  if (!entries.ok()) return entries.status();
  ApiKeys keys;
  for (const TomlReader& entry : *entries) {
    std::string id, role_name = "infer", key;
    for (Status s : {entry.RejectUnknown({"id", "role", "key"}), entry.String("id", &id, true),
                     entry.String("role", &role_name), entry.String("key", &key, true)}) {
      if (!s.ok()) return s;
    }
    const auto role = protocol::ParseRole(role_name);
    if (!role) return entry.Error("role", "must be \"infer\" or \"admin\"");
    const bool known = std::any_of(keys.keys_.begin(), keys.keys_.end(),
                                   [&](const ApiKey& k) { return k.id == id; });
    if (Status s = keys.Add(id, *role, key); !s.ok()) {
      return entry.Error(known || id.empty() ? "id" : "key", s.message());
    }
  }
  if (keys.keys_.empty()) return root.Error("key", "declare at least one [[key]]");
  return keys;
}

const ApiKey* ApiKeys::Match(std::string_view presented) const {
  const std::array<uint8_t, 32> digest = Digest(presented);
  const ApiKey* match = nullptr;
  for (const ApiKey& key : keys_) {
    // No early exit: every key is compared, whichever matches.
    const bool equal = sodium_memcmp(digest.data(), key.digest.data(), digest.size()) == 0;
    if (equal) match = &key;
  }
  return match;
}

}  // namespace botmodels
