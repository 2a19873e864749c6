#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/network_list.h"
#include "common/status.h"

namespace botmodels {

class TomlReader;

// The gateway's routes that a model serves, keyed by name in
// [gateway.routes] (which model) and [gateway.timeouts] (how long it may take).
enum class ModelRoute {
  kImageGenerate,        // POST /api/image/generate
  kVideoGenerate,        // POST /api/video/generate
  kSpeechGenerate,       // POST /api/speech/generate
  kSpeechToText,         // POST /api/speech/totext, /api/speech/to-text
  kSpeechLanguage,       // POST /api/speech/detect_language
  kVisionDescribe,       // POST /api/vision/describe (and analyze's description)
  kVisionDescribeVideo,  // POST /api/vision/describe-video, describe_video
  kVisionVqa,            // POST /api/vision/vqa
  kVisionQrCode,         // POST /api/vision/qrcode
  kVisionBarcode,        // POST /api/vision/barcode, /api/barcode/scan (and analyze's codes)
  kVisionOcr,            // POST /api/vision/ocr, /ocr (and analyze's text)
  kCount,                // not a route
};
inline constexpr size_t kModelRouteCount = static_cast<size_t>(ModelRoute::kCount);

// "image_generate", "speech_totext"...: the key in [gateway.routes].
std::string_view ModelRouteKey(ModelRoute route);
std::optional<ModelRoute> ParseModelRoute(std::string_view key);
// Whether the route generates a file (image, video, speech): botserver waits
// 300 s for those, and their default timeout matches.
bool IsGenerationRoute(ModelRoute route);

// How the gateway talks to the broker ([gateway] broker_link).
enum class BrokerLinkKind {
  kNative,  // "native": ZMTP on the gateway's I/O threads (tcp://, ipc://, no CURVE)
  kLibzmq,  // "libzmq": through libzmq and its I/O thread
};

// The HTTP gateway ([gateway]; docs/gateway.md). Paths are resolved against
// the config file's folder.
struct GatewayConfig {
  static constexpr std::chrono::milliseconds kDefaultTimeout{60'000};      // recognition routes
  static constexpr std::chrono::milliseconds kGenerationTimeout{300'000};  // botserver's wait

  std::string listen = "127.0.0.1:8085";  // host:port of the HTTP server
  // TLS: both or neither (PEM files).
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string api_keys_file;  // required: [[key]] id, role, key; mode 0600
  // The key the gateway signs its broker requests with: an id in the
  // broker's keys ([auth] keys_file or secret_env).
  std::string broker_key_id = "gateway";
  // More brokers' frontends: when the broker is silent with requests
  // unanswered, they go to the next (docs/operations.md, "Failover").
  std::vector<std::string> failover_brokers;
  std::string curve_key_file;  // this client's CURVE secret key, for a CURVE frontend
  // "native" speaks ZeroMQ's protocol itself where it can (not with CURVE);
  // "libzmq" always goes through libzmq.
  BrokerLinkKind broker_link = BrokerLinkKind::kNative;
  uint32_t threads = 0;                        // HTTP I/O threads; 0: half the cores, at least one
  int64_t max_body_bytes = int64_t{64} << 20;  // 64 MiB: larger bodies are 413
  uint32_t max_header_bytes = 16 << 10;        // request line and headers; past it 431
  uint32_t max_connections = 16'384;           // open at once; past it 503 and close
  // Folder that JSON `image_path` requests may read from; empty: none may.
  std::string files_dir;
  std::string outputs_dir;  // required: where generated files go, served at /outputs/
  std::chrono::milliseconds outputs_retention{24LL * 3600 * 1000};  // generated files live a day
  int64_t outputs_max_bytes = int64_t{1} << 30;  // 1 GiB: the oldest go first past this
  // How long a request body may take to arrive, and a response to be read:
  // slow and stalled clients are cut off (408 for a body).
  std::chrono::milliseconds client_timeout{60'000};
  // From a request's first byte to its last header (slowloris): 408 and close.
  std::chrono::milliseconds header_timeout{10'000};
  // How long a keep-alive connection may sit idle between requests.
  std::chrono::milliseconds idle_timeout{30'000};
  std::string cors_origin = "*";  // Access-Control-Allow-Origin; empty: no CORS headers
  // Networks whose requests without an X-API-Key get the infer role (botserver
  // sends some uploads without one). Empty: every request needs a key.
  NetworkList keyless_from;
  // [gateway.openai.models]: the model names /v1 clients send ("whisper-1")
  // and the served model each stands for. Without the table: whisper-1 for
  // speech_totext's model; tts-1, tts-1-hd and gpt-4o-mini-tts for
  // speech_generate's; dall-e-2, dall-e-3 and gpt-image-1 for
  // image_generate's (for the routes that have one).
  std::map<std::string, std::string> openai_models;
  // [gateway.routes] and [gateway.timeouts], by route; an empty model: not served.
  std::array<std::string, kModelRouteCount> routes;
  std::array<std::chrono::milliseconds, kModelRouteCount> timeouts{};

  const std::string& Model(ModelRoute route) const { return routes[static_cast<size_t>(route)]; }
  std::chrono::milliseconds Timeout(ModelRoute route) const {
    return timeouts[static_cast<size_t>(route)];
  }
};

// Reads [gateway] and its sub-tables from a broker config; nullopt when the
// file has no [gateway]. Errors name the file, line and field.
Result<std::optional<GatewayConfig>> ReadGatewayConfig(const TomlReader& root,
                                                       const std::string& base_dir);

}  // namespace botmodels
