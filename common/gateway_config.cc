#include "common/gateway_config.h"

#include <vector>

#include "common/toml_reader.h"

namespace botmodels {
namespace {

constexpr std::string_view kRouteKeys[] = {
    "image_generate",
    "video_generate",
    "speech_generate",
    "speech_totext",
    "speech_detect_language",
    "vision_describe",
    "vision_describe_video",
    "vision_vqa",
    "vision_qrcode",
    "vision_barcode",
    "vision_ocr",
};
static_assert(std::size(kRouteKeys) == kModelRouteCount);

constexpr int64_t kMaxThreads = 256;  // I/O threads: more than a host's cores only adds switching
constexpr int64_t kMaxHeaderBytes = 1 << 20;           // 1 MiB: no client of ours sends more
constexpr int64_t kMaxConnections = 1 << 20;           // each holds a file descriptor
constexpr int64_t kMaxBody = INT32_MAX;                // bytes: msgpack's bin length is 32-bit
constexpr int64_t kMaxTimeoutMs = 24LL * 3600 * 1000;  // a day
constexpr int64_t kMaxRetentionMs = 365LL * 24 * 3600 * 1000;  // a year

Status ReadMs(const TomlReader& r, std::string_view key, std::chrono::milliseconds* out,
              int64_t min_ms, int64_t max_ms) {
  int64_t ms = out->count();
  BOTMODELS_RETURN_IF_ERROR(r.Int(key, &ms, min_ms, max_ms));
  *out = std::chrono::milliseconds(ms);
  return {};
}

// [gateway.routes] or [gateway.timeouts]: every key a route's.
Status ReadRouteTable(const TomlReader& table, GatewayConfig* g, bool timeouts) {
  for (const std::string& key : table.Keys()) {
    const auto route = ParseModelRoute(key);
    if (!route) {
      std::string known;
      for (std::string_view k : kRouteKeys) known.append(known.empty() ? "" : ", ").append(k);
      return table.Error(key, "is not a route; the routes are " + known);
    }
    const auto i = static_cast<size_t>(*route);
    if (timeouts) {
      BOTMODELS_RETURN_IF_ERROR(ReadMs(table, key, &g->timeouts[i], 1, kMaxTimeoutMs));
    } else {
      BOTMODELS_RETURN_IF_ERROR(table.String(key, &g->routes[i]));
    }
  }
  return {};
}

// [gateway.openai.models], or the OpenAI names of the routed models.
Status ReadOpenAiModels(const TomlReader& gateway, GatewayConfig* g) {
  auto openai = gateway.Table("openai");
  if (!openai.ok()) return openai.status();
  BOTMODELS_RETURN_IF_ERROR(openai->RejectUnknown({"models"}));
  if (openai->Has("models")) {
    auto models = openai->Table("models");
    if (!models.ok()) return models.status();
    for (const std::string& name : models->Keys()) {
      BOTMODELS_RETURN_IF_ERROR(models->String(name, &g->openai_models[name], true));
    }
    return {};
  }
  struct Default {
    ModelRoute route;
    std::vector<std::string_view> names;
  };
  const Default defaults[] = {
      {ModelRoute::kSpeechToText, {"whisper-1"}},
      {ModelRoute::kSpeechGenerate, {"tts-1", "tts-1-hd", "gpt-4o-mini-tts"}},
      {ModelRoute::kImageGenerate, {"dall-e-2", "dall-e-3", "gpt-image-1"}},
  };
  for (const auto& [route, names] : defaults) {
    if (g->Model(route).empty()) continue;
    for (std::string_view name : names) g->openai_models[std::string(name)] = g->Model(route);
  }
  return {};
}

}  // namespace

std::string_view ModelRouteKey(ModelRoute route) { return kRouteKeys[static_cast<size_t>(route)]; }

std::optional<ModelRoute> ParseModelRoute(std::string_view key) {
  for (size_t i = 0; i < kModelRouteCount; ++i) {
    if (kRouteKeys[i] == key) return static_cast<ModelRoute>(i);
  }
  return std::nullopt;
}

bool IsGenerationRoute(ModelRoute route) {
  return route == ModelRoute::kImageGenerate || route == ModelRoute::kVideoGenerate ||
         route == ModelRoute::kSpeechGenerate;
}

Result<std::optional<GatewayConfig>> ReadGatewayConfig(const TomlReader& root,
                                                       const std::string& base) {
  if (!root.Has("gateway")) return std::optional<GatewayConfig>();
  auto r = root.Table("gateway");
  if (!r.ok()) return r.status();
  GatewayConfig g;
  int64_t threads = g.threads, max_header = g.max_header_bytes, max_connections = g.max_connections;
  for (Status s : {r->RejectUnknown({"listen",
                                     "tls_cert_file",
                                     "tls_key_file",
                                     "api_keys_file",
                                     "broker_key_id",
                                     "failover_brokers",
                                     "curve_key_file",
                                     "broker_link",
                                     "threads",
                                     "max_body_bytes",
                                     "files_dir",
                                     "outputs_dir",
                                     "outputs_retention_ms",
                                     "outputs_max_bytes",
                                     "client_timeout_ms",
                                     "header_timeout_ms",
                                     "idle_timeout_ms",
                                     "max_header_bytes",
                                     "max_connections",
                                     "cors_origin",
                                     "keyless_from",
                                     "routes",
                                     "timeouts",
                                     "openai"}),
                   r->String("listen", &g.listen),
                   r->String("tls_cert_file", &g.tls_cert_file),
                   r->String("tls_key_file", &g.tls_key_file),
                   r->String("api_keys_file", &g.api_keys_file, true),
                   r->String("broker_key_id", &g.broker_key_id),
                   r->StringList("failover_brokers", &g.failover_brokers),
                   r->String("curve_key_file", &g.curve_key_file),
                   r->Int("threads", &threads, 0, kMaxThreads),
                   r->Int("max_body_bytes", &g.max_body_bytes, 1024, kMaxBody),
                   r->String("files_dir", &g.files_dir),
                   r->String("outputs_dir", &g.outputs_dir, true),
                   ReadMs(*r, "outputs_retention_ms", &g.outputs_retention, 1000, kMaxRetentionMs),
                   r->Int("outputs_max_bytes", &g.outputs_max_bytes, 1 << 20, INT64_MAX),
                   ReadMs(*r, "client_timeout_ms", &g.client_timeout, 1000, kMaxTimeoutMs),
                   ReadMs(*r, "header_timeout_ms", &g.header_timeout, 100, kMaxTimeoutMs),
                   ReadMs(*r, "idle_timeout_ms", &g.idle_timeout, 100, kMaxTimeoutMs),
                   r->Int("max_header_bytes", &max_header, 1024, kMaxHeaderBytes),
                   r->Int("max_connections", &max_connections, 1, kMaxConnections),
                   r->String("cors_origin", &g.cors_origin)}) {
    if (!s.ok()) return s;
  }
  g.threads = static_cast<uint32_t>(threads);
  g.max_header_bytes = static_cast<uint32_t>(max_header);
  g.max_connections = static_cast<uint32_t>(max_connections);
  if (g.listen.rfind(':') == std::string::npos) {
    return r->Error("listen", "expected host:port, e.g. \"127.0.0.1:8085\"");
  }
  if (g.tls_cert_file.empty() != g.tls_key_file.empty()) {
    return r->Error(g.tls_cert_file.empty() ? "tls_cert_file" : "tls_key_file",
                    "TLS needs both tls_cert_file and tls_key_file");
  }
  if (g.outputs_dir.empty()) return r->Error("outputs_dir", "must not be empty");
  std::string link = "native";
  BOTMODELS_RETURN_IF_ERROR(r->String("broker_link", &link));
  if (link != "native" && link != "libzmq") {
    return r->Error("broker_link", "expected \"native\" or \"libzmq\"");
  }
  g.broker_link = link == "native" ? BrokerLinkKind::kNative : BrokerLinkKind::kLibzmq;
  std::vector<std::string> keyless;
  BOTMODELS_RETURN_IF_ERROR(r->StringList("keyless_from", &keyless));
  auto networks = NetworkList::Parse(keyless);
  if (!networks.ok()) return r->Error("keyless_from", networks.status().message());
  g.keyless_from = std::move(*networks);
  for (size_t i = 0; i < kModelRouteCount; ++i) {
    g.timeouts[i] = IsGenerationRoute(static_cast<ModelRoute>(i))
                        ? GatewayConfig::kGenerationTimeout
                        : GatewayConfig::kDefaultTimeout;
  }
  for (const bool timeouts : {false, true}) {
    auto table = r->Table(timeouts ? "timeouts" : "routes");
    if (!table.ok()) return table.status();
    BOTMODELS_RETURN_IF_ERROR(ReadRouteTable(*table, &g, timeouts));
  }
  BOTMODELS_RETURN_IF_ERROR(ReadOpenAiModels(*r, &g));
  for (std::string* path : {&g.tls_cert_file, &g.tls_key_file, &g.api_keys_file, &g.curve_key_file,
                            &g.files_dir, &g.outputs_dir}) {
    *path = ResolvePath(base, *path);
  }
  return std::optional<GatewayConfig>(std::move(g));
}

}  // namespace botmodels
