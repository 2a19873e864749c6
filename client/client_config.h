#pragma once

#include <string>

#include "client/client.h"
#include "common/status.h"

namespace botmodels {

// Client settings for talking to the broker that `config_path` configures:
// its frontend endpoint, key id and secret (from the config's secret_file or
// secret_env). With an empty path: the default endpoint, key id
// $BOTMODELS_KEY_ID or "default", and the secret from $BOTMODELS_SECRET if set.
Result<ClientOptions> LoadClientOptions(const std::string& config_path);

}  // namespace botmodels
