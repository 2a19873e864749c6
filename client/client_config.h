#pragma once

#include <optional>
#include <string>

#include "client/client.h"
#include "common/broker_config.h"
#include "common/status.h"

namespace botmodels {

// Client settings for talking to the broker that `config_path` configures:
// its frontend endpoint and a key from its keys file ($BOTMODELS_KEY_ID, else
// the first admin key, else the first) or from its secret_env; with CURVE on
// the frontend, the broker's public key derived from its secret key file
// when this user can read it. With an empty path: the default endpoint, key
// id $BOTMODELS_KEY_ID or "default", and the secret from $BOTMODELS_SECRET
// if set.
Result<ClientOptions> LoadClientOptions(const std::string& config_path);

// Client settings for the broker `config` configures, signing with the key
// `key_id` of its keys (nullopt: chosen as LoadClientOptions says).
Result<ClientOptions> ClientOptionsFor(const BrokerConfig& config,
                                       const std::optional<std::string>& key_id);

// Adds CURVE to `options`: the broker's public key file (may be empty when
// the options already hold it) and this client's secret key file.
Status AddClientCurve(const std::string& server_key_file, const std::string& key_file,
                      ClientOptions* options);

}  // namespace botmodels
