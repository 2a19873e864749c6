#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol.h"
#include "common/status.h"

namespace botmodels {

// One key an HTTP client presents in X-API-Key. Only its SHA-256 is kept.
struct ApiKey {
  std::string id;  // names the key in logs; the key itself is never logged
  protocol::Role role = protocol::Role::kInfer;
  std::array<uint8_t, 32> digest{};
};

// The gateway's API keys (docs/gateway.md), read from a keys file of
// [[key]] tables (id, role, key) that others may not read (ReadSecretFile).
// Immutable once loaded; thread-safe.
class ApiKeys {
 public:
  static constexpr size_t kMinKeyBytes = 16;  // 128 bits

  // Errors name the file, line and field, never a key.
  static Result<ApiKeys> Load(const std::string& path);
  // For tests: keys given in memory.
  Status Add(std::string id, protocol::Role role, std::string_view key);

  // The key `presented` matches, or nullptr. The time it takes does not
  // depend on which key matched, nor on how much of one did: every key's
  // digest is compared, each in constant time.
  const ApiKey* Match(std::string_view presented) const;

  size_t size() const { return keys_.size(); }

 private:
  std::vector<ApiKey> keys_;
};

}  // namespace botmodels
