#pragma once

#include <optional>
#include <set>
#include <string>

#include "common/broker_config.h"
#include "common/curve_keys.h"
#include "common/key_ring.h"
#include "common/status.h"

namespace botmodels {

// The secrets a broker runs with (docs/security.md), loaded once at start.
struct BrokerCredentials {
  std::optional<KeyRing> client_keys;  // nullopt with auth = "none"
  // Workers sign their registration with it: [auth] worker_secret_file, or a
  // fresh random one that only the workers this broker starts receive.
  std::string worker_secret;
  // CURVE, when [curve] turns it on for a socket:
  std::optional<CurveKeyPair> curve_key;         // the broker's
  std::set<std::string> client_curve_keys;       // allowed on the frontend
  std::set<std::string> worker_curve_keys;       // allowed on the backend
  std::optional<CurveKeyPair> local_worker_key;  // fresh; given to the local workers
};

// Loads what `config` names. Errors name the file or variable, never a secret.
Result<BrokerCredentials> LoadCredentials(const BrokerConfig& config);

}  // namespace botmodels
