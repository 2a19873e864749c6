#pragma once

#include <string_view>

// The command-line flags of botmodels-worker, spelled once: worker/main.cc
// declares them and the broker's supervisor passes them.
namespace botmodels::worker_flag {

inline constexpr std::string_view kBroker = "--broker";          // the broker's backend endpoint
inline constexpr std::string_view kId = "--id";                  // the worker's id
inline constexpr std::string_view kRepository = "--repository";  // the model repository
inline constexpr std::string_view kModel = "--model";            // the model to serve
inline constexpr std::string_view kDevice = "--device";          // cpu or cuda:N
inline constexpr std::string_view kThreads = "--threads";        // intra-op threads
inline constexpr std::string_view kPreload = "--preload";        // load before the first request
inline constexpr std::string_view kProbeDevices = "--probe-devices";  // print usable GPUs, exit
inline constexpr std::string_view kHeartbeatMs = "--heartbeat-ms";
inline constexpr std::string_view kLivenessMs = "--liveness-ms";
inline constexpr std::string_view kLogLevel = "--log-level";
inline constexpr std::string_view kLogFormat = "--log-format";
inline constexpr std::string_view kWorkerSecretFile = "--worker-secret-file";
inline constexpr std::string_view kCurveServerKey = "--curve-server-key";
inline constexpr std::string_view kCurveKeyFile = "--curve-key-file";
// The broker's [limits], so that the worker decodes within them.
inline constexpr std::string_view kMaxMessageBytes = "--max-message-bytes";
inline constexpr std::string_view kMaxTensors = "--max-tensors";
inline constexpr std::string_view kMaxRank = "--max-rank";
inline constexpr std::string_view kMaxElements = "--max-elements";
inline constexpr std::string_view kMaxDepth = "--max-depth";
inline constexpr std::string_view kMaxItems = "--max-items";

}  // namespace botmodels::worker_flag
