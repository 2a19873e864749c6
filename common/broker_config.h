#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/gateway_config.h"
#include "common/protocol.h"
#include "common/status.h"

namespace botmodels {

enum class AuthMode { kHmac, kNone };

// Client and worker authentication ([auth]; docs/security.md).
struct AuthConfig {
  AuthMode mode = AuthMode::kHmac;  // kNone only for local development
  std::string keys_file;            // [[key]] id, role, secret; mode 0600
  // One more key when the environment variable secret_env is set:
  std::string key_id = "default";
  std::string secret_env = "BOTMODELS_SECRET";
  protocol::Role key_role = protocol::Role::kInfer;
  std::chrono::milliseconds max_clock_skew{30'000};  // older or newer timestamps are refused
  // (key id, nonce) pairs remembered to refuse replays; when full, the oldest
  // is dropped and requests as old as it are refused.
  int64_t replay_cache_size = 1'000'000;  // ~100 MB at most
  // The secret remote workers prove; local workers get a fresh one per start.
  std::string worker_secret_file;
};

// Optional CURVE encryption ([curve]; docs/security.md).
struct CurveConfig {
  std::string secret_key_file;  // the broker's key (botmodels keygen); required when on
  bool frontend = false;        // encrypt client traffic
  bool backend = false;         // encrypt worker traffic
  std::string client_keys;      // public keys allowed on the frontend, one per line
  std::string worker_keys;      // public keys of remote workers allowed on the backend
};

// [devices.<name>]: what one device may hold at once (docs/operations.md,
// "Model residency"). <name> is "cpu", "cuda:N", or "cuda" for every GPU
// without a table of its own.
struct DeviceLimits {
  uint32_t max_resident_models = 0;  // models with workers on it; 0 = no limit
  uint64_t memory_budget_mb = 0;     // what their workers may hold, in MiB; 0 = no budget

  bool limited() const { return max_resident_models > 0 || memory_budget_mb > 0; }
  bool operator==(const DeviceLimits&) const = default;
};

// The broker's configuration file (docs/configuration.md). Relative paths are
// resolved against the file's folder.
struct BrokerConfig {
  // [supervisor] defaults, shared with SupervisorOptions.
  static constexpr std::chrono::milliseconds kDefaultBackoffMin{500};
  static constexpr std::chrono::milliseconds kDefaultBackoffMax{30'000};
  static constexpr std::chrono::milliseconds kDefaultStableAfter{60'000};
  static constexpr std::chrono::milliseconds kDefaultStopGrace{5000};
  // Liveness defaults, shared with LivenessOptions: generous, as a model's
  // first load or a long forward may take this long.
  static constexpr std::chrono::milliseconds kDefaultRegisterTimeout{30'000};
  static constexpr std::chrono::milliseconds kDefaultHungAfter{30'000};

  std::string path;  // the file this was read from
  // [broker]
  std::string frontend = "tcp://127.0.0.1:8089";  // clients connect here
  std::string backend;  // workers connect here; default ipc://$TMPDIR/botmodels-<pid>.sock
  std::chrono::milliseconds heartbeat = protocol::kDefaultHeartbeat;  // both directions
  std::chrono::milliseconds liveness = protocol::kDefaultLiveness;    // silent this long: dead
  // On SIGTERM, how long accepted requests may take to finish before the
  // rest are answered `unavailable`; 0: answer them at once.
  std::chrono::milliseconds drain_timeout{30'000};
  std::string log_level = "info";
  std::string log_format = "text";  // or "json": one object per line, for log shippers
  // [http]: /healthz, /readyz and /metrics on host:port ("": off; port 0: any).
  std::string http_listen = "127.0.0.1:8090";
  // [auth]
  AuthConfig auth;
  // [curve]
  CurveConfig curve;
  // [limits]
  protocol::Limits limits;
  // [models]
  std::string repository;          // required, but in a file for a gateway on its own
  std::vector<std::string> serve;  // models to serve; empty = all in the repository
  // [supervisor]
  std::string worker_binary;         // default: botmodels-worker beside the broker
  std::string native_worker_binary;  // default: botmodels-worker-native beside the broker
  std::string gateway_binary;        // default: botmodels-gateway beside the broker
  std::chrono::milliseconds backoff_min = kDefaultBackoffMin;    // first restart delay
  std::chrono::milliseconds backoff_max = kDefaultBackoffMax;    // delays double up to this
  std::chrono::milliseconds stable_after = kDefaultStableAfter;  // uptime that resets the delay
  std::chrono::milliseconds stop_grace = kDefaultStopGrace;      // SIGTERM to SIGKILL
  // A worker not registered this long after its start is hung.
  std::chrono::milliseconds register_timeout = kDefaultRegisterTimeout;
  // A worker still running a request this long after its deadline is hung.
  std::chrono::milliseconds hung_after = kDefaultHungAfter;
  // false: start no workers; only remote ones (systemd, Kubernetes) serve.
  bool local_workers = true;
  // [devices.<name>]: by device name, as written.
  std::map<std::string, DeviceLimits> devices;
  // [gateway]: the HTTP gateway, started and restarted by the broker when present.
  std::optional<GatewayConfig> gateway;
};

// `device`'s limits: its own table, else "cuda"'s for a GPU, else none.
DeviceLimits LimitsOf(const std::map<std::string, DeviceLimits>& devices,
                      const std::string& device);

// Reads and validates a broker config. Errors name the file, line and field.
Result<BrokerConfig> LoadBrokerConfig(const std::string& path);

}  // namespace botmodels
