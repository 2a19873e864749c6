#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/status.h"

namespace botmodels {

enum class AuthMode { kHmac, kNone };

// Client authentication settings ([auth]).
struct AuthConfig {
  AuthMode mode = AuthMode::kHmac;                   // kNone only for local development
  std::string key_id = "default";                    // the key id clients send
  std::string secret_file;                           // read the secret from this file, or else
  std::string secret_env = "BOTMODELS_SECRET";       // from this environment variable
  std::chrono::milliseconds max_clock_skew{30'000};  // older or newer timestamps are refused
};

// The broker's configuration file (docs/configuration.md). Relative paths are
// resolved against the file's folder.
struct BrokerConfig {
  std::string path;  // the file this was read from
  // [broker]
  std::string frontend = "tcp://127.0.0.1:8089";  // clients connect here
  std::string backend;  // workers connect here; default ipc://$TMPDIR/botmodels-<pid>.sock
  std::chrono::milliseconds heartbeat{1000};  // both directions
  std::chrono::milliseconds liveness{5000};   // a worker silent this long is dead
  std::string log_level = "info";
  // [auth]
  AuthConfig auth;
  // [models]
  std::string repository;          // required
  std::vector<std::string> serve;  // models to serve; empty = all in the repository
  // [supervisor]
  std::string worker_binary;                       // default: botmodels-worker beside the broker
  std::chrono::milliseconds backoff_min{500};      // first restart delay
  std::chrono::milliseconds backoff_max{30'000};   // restart delays double up to this
  std::chrono::milliseconds stable_after{60'000};  // an uptime that resets the backoff
  std::chrono::milliseconds stop_grace{5000};      // SIGTERM to SIGKILL when stopping workers
  // A worker not registered this long after its start is hung.
  std::chrono::milliseconds register_timeout{30'000};
  // A worker still running a request this long after its deadline is hung.
  std::chrono::milliseconds hung_after{30'000};
};

// Reads and validates a broker config. Errors name the file, line and field.
Result<BrokerConfig> LoadBrokerConfig(const std::string& path);

}  // namespace botmodels
