#include "common/broker_config.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "common/toml_reader.h"

namespace botmodels {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kMaxMs = 24LL * 3600 * 1000;    // one day: bounds every duration option
constexpr int64_t kMinReplayCache = 1024;         // entries; below this replays slip through
constexpr int64_t kMaxReplayCache = 100'000'000;  // entries: ~10 GB, far past any need
constexpr int64_t kMaxMessage = INT32_MAX;        // bytes: msgpack's str/bin length is 32-bit

std::string Resolve(const fs::path& base, const std::string& path) {
  return ResolvePath(base.string(), path);
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

Status ReadAuth(const TomlReader& root, const fs::path& base, AuthConfig* a) {
  auto auth = root.Table("auth");
  if (!auth.ok()) return auth.status();
  std::string mode = "hmac", role = "infer";
  for (Status s :
       {auth->RejectUnknown({"mode", "keys_file", "key_id", "secret_env", "key_role",
                             "max_clock_skew_ms", "replay_cache_size", "worker_secret_file"}),
        auth->String("mode", &mode), auth->String("keys_file", &a->keys_file),
        auth->String("key_id", &a->key_id), auth->String("secret_env", &a->secret_env),
        auth->String("key_role", &role),
        ReadDuration(*auth, "max_clock_skew_ms", &a->max_clock_skew, 1000),
        auth->Int("replay_cache_size", &a->replay_cache_size, kMinReplayCache, kMaxReplayCache),
        auth->String("worker_secret_file", &a->worker_secret_file)}) {
    if (!s.ok()) return s;
  }
  if (mode == "none") {
    a->mode = AuthMode::kNone;
  } else if (mode != "hmac") {
    return auth->Error("mode", "must be \"hmac\" or \"none\"");
  }
  auto parsed = protocol::ParseRole(role);
  if (!parsed) return auth->Error("key_role", "must be \"infer\" or \"admin\"");
  a->key_role = *parsed;
  a->keys_file = Resolve(base, a->keys_file);
  a->worker_secret_file = Resolve(base, a->worker_secret_file);
  return {};
}

Status ReadCurve(const TomlReader& root, const fs::path& base, CurveConfig* c) {
  auto curve = root.Table("curve");
  if (!curve.ok()) return curve.status();
  for (Status s : {curve->RejectUnknown(
                       {"secret_key_file", "frontend", "backend", "client_keys", "worker_keys"}),
                   curve->String("secret_key_file", &c->secret_key_file),
                   curve->Bool("frontend", &c->frontend), curve->Bool("backend", &c->backend),
                   curve->String("client_keys", &c->client_keys),
                   curve->String("worker_keys", &c->worker_keys)}) {
    if (!s.ok()) return s;
  }
  if ((c->frontend || c->backend) && c->secret_key_file.empty()) {
    return curve->Missing("secret_key_file");
  }
  if (c->frontend && c->client_keys.empty()) return curve->Missing("client_keys");
  c->secret_key_file = Resolve(base, c->secret_key_file);
  c->client_keys = Resolve(base, c->client_keys);
  c->worker_keys = Resolve(base, c->worker_keys);
  return {};
}

Status ReadLimits(const TomlReader& root, protocol::Limits* l) {
  auto limits = root.Table("limits");
  if (!limits.ok()) return limits.status();
  int64_t tensors = l->max_tensors, rank = l->max_rank, depth = l->max_depth, items = l->max_items,
          elements = static_cast<int64_t>(l->max_elements);
  for (Status s :
       {limits->RejectUnknown({"max_message_bytes", "max_tensors", "max_rank", "max_elements",
                               "max_depth", "max_items"}),
        limits->Int("max_message_bytes", &l->max_message_bytes, 1024, kMaxMessage),
        limits->Int("max_tensors", &tensors, 1, 1 << 16), limits->Int("max_rank", &rank, 1, 64),
        limits->Int("max_elements", &elements, 1, INT64_MAX),
        // Valid messages nest 6 deep (status reply: model inputs' shapes).
        limits->Int("max_depth", &depth, 8, 64),
        limits->Int("max_items", &items, 64, UINT32_MAX)}) {
    if (!s.ok()) return s;
  }
  l->max_tensors = static_cast<uint32_t>(tensors);
  l->max_rank = static_cast<uint32_t>(rank);
  l->max_elements = static_cast<uint64_t>(elements);
  l->max_depth = static_cast<uint32_t>(depth);
  l->max_items = static_cast<uint32_t>(items);
  return {};
}

bool IsDeviceName(const std::string& name) {
  if (name == "cpu" || name == "cuda") return true;
  constexpr std::string_view kCuda = "cuda:";
  if (name.rfind(kCuda, 0) != 0 || name.size() == kCuda.size()) return false;
  return std::all_of(name.begin() + kCuda.size(), name.end(),
                     [](char c) { return std::isdigit(c); });
}

Status ReadDevices(const TomlReader& root, std::map<std::string, DeviceLimits>* out) {
  constexpr int64_t kMaxModels = 10'000;     // far past any host's
  constexpr int64_t kMaxBudgetMb = 1 << 30;  // MiB: a pebibyte
  auto devices = root.Table("devices");
  if (!devices.ok()) return devices.status();
  for (const std::string& name : devices->Keys()) {
    if (!IsDeviceName(name)) {
      return devices->Error(name, "expected a device: \"cpu\", \"cuda\" or \"cuda:N\"");
    }
    auto device = devices->Table(name);
    if (!device.ok()) return device.status();
    int64_t models = 0, budget = 0;
    for (Status s : {device->RejectUnknown({"max_resident_models", "memory_budget_mb"}),
                     device->Int("max_resident_models", &models, 0, kMaxModels),
                     device->Int("memory_budget_mb", &budget, 0, kMaxBudgetMb)}) {
      if (!s.ok()) return s;
    }
    (*out)[name] = {static_cast<uint32_t>(models), static_cast<uint64_t>(budget)};
  }
  return {};
}

}  // namespace

DeviceLimits LimitsOf(const std::map<std::string, DeviceLimits>& devices,
                      const std::string& device) {
  if (auto it = devices.find(device); it != devices.end()) return it->second;
  if (device.rfind("cuda", 0) == 0) {
    if (auto it = devices.find("cuda"); it != devices.end()) return it->second;
  }
  return {};
}

Result<BrokerConfig> LoadBrokerConfig(const std::string& path) {
  auto table = ParseTomlFile(path);
  if (!table.ok()) return table.status();
  const fs::path base = fs::absolute(path).parent_path();
  TomlReader root(path, *table);
  if (Status s = root.RejectUnknown({"broker", "http", "auth", "curve", "limits", "models",
                                     "supervisor", "devices", "gateway"});
      !s.ok()) {
    return s;
  }
  BrokerConfig c;
  c.path = path;

  auto broker = root.Table("broker");
  if (!broker.ok()) return broker.status();
  for (Status s :
       {broker->RejectUnknown({"frontend", "backend", "heartbeat_ms", "liveness_ms",
                               "drain_timeout_ms", "log_level", "log_format"}),
        broker->String("frontend", &c.frontend), broker->String("backend", &c.backend),
        ReadDuration(*broker, "heartbeat_ms", &c.heartbeat, 10),
        ReadDuration(*broker, "liveness_ms", &c.liveness, 20),
        ReadDuration(*broker, "drain_timeout_ms", &c.drain_timeout, 0),
        broker->String("log_level", &c.log_level), broker->String("log_format", &c.log_format)}) {
    if (!s.ok()) return s;
  }
  constexpr std::string_view kLevels[] = {"trace", "debug", "info", "warn", "error", "critical"};
  if (std::find(std::begin(kLevels), std::end(kLevels), c.log_level) == std::end(kLevels)) {
    return broker->Error("log_level", "must be trace, debug, info, warn, error or critical");
  }
  if (c.log_format != "text" && c.log_format != "json") {
    return broker->Error("log_format", "must be \"text\" or \"json\"");
  }
  if (c.liveness < 2 * c.heartbeat) {
    return broker->Error("liveness_ms", "must be at least twice heartbeat_ms");
  }
  c.frontend = ResolveEndpoint(base, c.frontend);
  c.backend = ResolveEndpoint(base, c.backend);

  auto http = root.Table("http");
  if (!http.ok()) return http.status();
  for (Status s : {http->RejectUnknown({"listen"}), http->String("listen", &c.http_listen)}) {
    if (!s.ok()) return s;
  }
  if (!c.http_listen.empty() && c.http_listen.find(':') == std::string::npos) {
    return http->Error("listen", "expected host:port, e.g. \"127.0.0.1:8090\"");
  }
  if (Status s = ReadAuth(root, base, &c.auth); !s.ok()) return s;
  if (Status s = ReadCurve(root, base, &c.curve); !s.ok()) return s;
  if (Status s = ReadLimits(root, &c.limits); !s.ok()) return s;

  // A file for a gateway on its own (one with [gateway] and no [models]) serves no models.
  const bool gateway_only = root.Has("gateway") && !root.Has("models");
  auto models = root.Table("models");
  if (!models.ok()) return models.status();
  for (Status s : {models->RejectUnknown({"repository", "serve"}),
                   models->String("repository", &c.repository, !gateway_only),
                   models->StringList("serve", &c.serve)}) {
    if (!s.ok()) return s;
  }
  c.repository = Resolve(base, c.repository);

  auto sup = root.Table("supervisor");
  if (!sup.ok()) return sup.status();
  for (Status s : {sup->RejectUnknown({"worker_binary", "native_worker_binary", "gateway_binary",
                                       "restart_backoff_min_ms", "restart_backoff_max_ms",
                                       "stable_after_ms", "stop_grace_ms", "register_timeout_ms",
                                       "hung_after_ms", "local_workers"}),
                   sup->Bool("local_workers", &c.local_workers),
                   sup->String("worker_binary", &c.worker_binary),
                   sup->String("native_worker_binary", &c.native_worker_binary),
                   sup->String("gateway_binary", &c.gateway_binary),
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
  if (Status s = ReadDevices(root, &c.devices); !s.ok()) return s;
  auto gateway = ReadGatewayConfig(root, base.string());
  if (!gateway.ok()) return gateway.status();
  c.gateway = std::move(*gateway);
  c.worker_binary = Resolve(base, c.worker_binary);
  c.native_worker_binary = Resolve(base, c.native_worker_binary);
  c.gateway_binary = Resolve(base, c.gateway_binary);
  return c;
}

}  // namespace botmodels
