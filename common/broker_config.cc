#include "common/broker_config.h"

#include <algorithm>
#include <filesystem>

#include "common/toml_reader.h"

namespace botmodels {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kMaxMs = 24LL * 3600 * 1000;  // one day: bounds every duration option

std::string Resolve(const fs::path& base, const std::string& path) {
  if (path.empty() || fs::path(path).is_absolute()) return path;
  return (base / path).lexically_normal().string();
}

// An endpoint's ipc:// path is a file path too: resolve it like the others.
std::string ResolveEndpoint(const fs::path& base, const std::string& endpoint) {
  constexpr std::string_view kIpc = "ipc://";
  if (endpoint.rfind(kIpc, 0) != 0) return endpoint;
  return std::string(kIpc) + Resolve(base, endpoint.substr(kIpc.size()));
}

Status ReadDuration(const TomlReader& r, std::string_view key, std::chrono::milliseconds* out,
                    int64_t min_ms) {
  int64_t ms = out->count();
  if (Status s = r.Int(key, &ms, min_ms, kMaxMs); !s.ok()) return s;
  *out = std::chrono::milliseconds(ms);
  return {};
}

}  // namespace

Result<BrokerConfig> LoadBrokerConfig(const std::string& path) {
  auto table = ParseTomlFile(path);
  if (!table.ok()) return table.status();
  const fs::path base = fs::absolute(path).parent_path();
  TomlReader root(path, *table);
  if (Status s = root.RejectUnknown({"broker", "auth", "models", "supervisor"}); !s.ok()) return s;
  BrokerConfig c;
  c.path = path;

  auto broker = root.Table("broker");
  if (!broker.ok()) return broker.status();
  for (Status s :
       {broker->RejectUnknown({"frontend", "backend", "heartbeat_ms", "liveness_ms", "log_level"}),
        broker->String("frontend", &c.frontend), broker->String("backend", &c.backend),
        ReadDuration(*broker, "heartbeat_ms", &c.heartbeat, 10),
        ReadDuration(*broker, "liveness_ms", &c.liveness, 20),
        broker->String("log_level", &c.log_level)}) {
    if (!s.ok()) return s;
  }
  constexpr std::string_view kLevels[] = {"trace", "debug", "info", "warn", "error", "critical"};
  if (std::find(std::begin(kLevels), std::end(kLevels), c.log_level) == std::end(kLevels)) {
    return broker->Error("log_level", "must be trace, debug, info, warn, error or critical");
  }
  if (c.liveness < 2 * c.heartbeat) {
    return broker->Error("liveness_ms", "must be at least twice heartbeat_ms");
  }
  c.frontend = ResolveEndpoint(base, c.frontend);
  c.backend = ResolveEndpoint(base, c.backend);

  auto auth = root.Table("auth");
  if (!auth.ok()) return auth.status();
  std::string mode = "hmac";
  for (Status s :
       {auth->RejectUnknown({"mode", "key_id", "secret_file", "secret_env", "max_clock_skew_ms"}),
        auth->String("mode", &mode), auth->String("key_id", &c.auth.key_id),
        auth->String("secret_file", &c.auth.secret_file),
        auth->String("secret_env", &c.auth.secret_env),
        ReadDuration(*auth, "max_clock_skew_ms", &c.auth.max_clock_skew, 1000)}) {
    if (!s.ok()) return s;
  }
  if (mode == "none") {
    c.auth.mode = AuthMode::kNone;
  } else if (mode != "hmac") {
    return auth->Error("mode", "must be \"hmac\" or \"none\"");
  }
  c.auth.secret_file = Resolve(base, c.auth.secret_file);

  auto models = root.Table("models");
  if (!models.ok()) return models.status();
  for (Status s :
       {models->RejectUnknown({"repository", "serve"}),
        models->String("repository", &c.repository, true), models->StringList("serve", &c.serve)}) {
    if (!s.ok()) return s;
  }
  c.repository = Resolve(base, c.repository);

  auto sup = root.Table("supervisor");
  if (!sup.ok()) return sup.status();
  for (Status s : {sup->RejectUnknown({"worker_binary", "restart_backoff_min_ms",
                                       "restart_backoff_max_ms", "stable_after_ms", "stop_grace_ms",
                                       "register_timeout_ms", "hung_after_ms"}),
                   sup->String("worker_binary", &c.worker_binary),
                   ReadDuration(*sup, "restart_backoff_min_ms", &c.backoff_min, 1),
                   ReadDuration(*sup, "restart_backoff_max_ms", &c.backoff_max, 1),
                   ReadDuration(*sup, "stable_after_ms", &c.stable_after, 1),
                   ReadDuration(*sup, "stop_grace_ms", &c.stop_grace, 0),
                   ReadDuration(*sup, "register_timeout_ms", &c.register_timeout, 1),
                   ReadDuration(*sup, "hung_after_ms", &c.hung_after, 1)}) {
    if (!s.ok()) return s;
  }
  if (c.backoff_max < c.backoff_min) {
    return sup->Error("restart_backoff_max_ms", "must not be below restart_backoff_min_ms");
  }
  c.worker_binary = Resolve(base, c.worker_binary);
  return c;
}

}  // namespace botmodels
