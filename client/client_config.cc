#include "client/client_config.h"

#include <cstdlib>

#include "common/broker_config.h"
#include "common/request_signer.h"

namespace botmodels {

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
  options.endpoint = config->frontend;
  // A broker listening on every interface is reached on loopback.
  if (const auto pos = options.endpoint.find("://*:"); pos != std::string::npos) {
    options.endpoint.replace(pos, 4, "://127.0.0.1:");
  }
  if (config->auth.mode == AuthMode::kHmac) {
    auto secret = LoadSecret(config->auth.secret_file, config->auth.secret_env);
    if (!secret.ok()) return secret.status();
    options.secret = std::move(*secret);
    options.key_id = config->auth.key_id;
  }
  return options;
}

}  // namespace botmodels
