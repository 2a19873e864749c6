#include "client/client_config.h"

#include <cstdlib>

#include "common/broker_config.h"
#include "common/key_ring.h"
#include "common/request_signer.h"

namespace botmodels {
namespace {

// The key the CLI signs with, among those the broker accepts.
const ClientKey* ChooseKey(const KeyRing& keys) {
  if (const char* id = std::getenv("BOTMODELS_KEY_ID")) return keys.Find(id);
  for (const ClientKey& key : keys.keys()) {
    if (key.role == protocol::Role::kAdmin) return &key;
  }
  return &keys.keys().front();
}

}  // namespace

Result<ClientOptions> LoadClientOptions(const std::string& config_path) {
  ClientOptions options;
  if (config_path.empty()) {
    if (const char* key_id = std::getenv("BOTMODELS_KEY_ID")) options.key_id = key_id;
    if (std::getenv("BOTMODELS_SECRET")) {
      auto secret = LoadSecret("", "BOTMODELS_SECRET");
      if (!secret.ok()) return secret.status();
      options.secret = std::move(*secret);
    }
    return options;
  }
  auto config = LoadBrokerConfig(config_path);
  if (!config.ok()) return config.status();
  return ClientOptionsFor(*config, std::nullopt);
}

Result<ClientOptions> ClientOptionsFor(const BrokerConfig& config,
                                       const std::optional<std::string>& key_id) {
  ClientOptions options;
  options.endpoint = config.frontend;
  // A broker listening on every interface is reached on loopback.
  if (const auto pos = options.endpoint.find("://*:"); pos != std::string::npos) {
    options.endpoint.replace(pos, 4, "://127.0.0.1:");
  }
  options.max_message_bytes = config.limits.max_message_bytes;
  if (config.auth.mode == AuthMode::kHmac) {
    auto keys = LoadKeyRing(config.auth);
    if (!keys.ok()) return keys.status();
    const ClientKey* key = key_id ? keys->Find(*key_id) : ChooseKey(*keys);
    if (!key) {
      return Status(ErrorCode::kUnauthenticated,
                    "no key with id " +
                        (key_id ? "'" + *key_id + "'" : std::string("$BOTMODELS_KEY_ID")) + " in " +
                        config.path + "'s keys");
    }
    options.key_id = key->id();
    options.secret = key->signer.secret();
  }
  if (config.curve.frontend) {
    if (auto broker_key = LoadCurveSecretKey(config.curve.secret_key_file); broker_key.ok()) {
      options.curve_server_key = broker_key->public_key;
    }
  }
  return options;
}

Status AddClientCurve(const std::string& server_key_file, const std::string& key_file,
                      ClientOptions* options) {
  if (!server_key_file.empty()) {
    auto server_key = LoadCurvePublicKey(server_key_file);
    if (!server_key.ok()) return server_key.status();
    options->curve_server_key = std::move(*server_key);
  }
  if (key_file.empty()) return {};
  if (options->curve_server_key.empty()) {
    return {ErrorCode::kInvalidRequest,
            "--curve-key needs the broker's public key: --curve-server-key"};
  }
  auto key = LoadCurveSecretKey(key_file);
  if (!key.ok()) return key.status();
  options->curve_key = std::move(*key);
  return {};
}

}  // namespace botmodels
