#include "broker/worker_launch.h"

#include <filesystem>

#include "common/worker_env.h"
#include "common/worker_flags.h"

namespace botmodels {
namespace {

// `name` beside this executable.
std::string Beside(const char* name) {
  return (std::filesystem::read_symlink("/proc/self/exe").parent_path() / name).string();
}

}  // namespace

SupervisorOptions WorkerLaunchOptions(const BrokerConfig& c, const BrokerCredentials& keys) {
  namespace flag = worker_flag;
  SupervisorOptions o;
  o.worker_binary = c.worker_binary.empty() ? Beside("botmodels-worker") : c.worker_binary;
  o.native_worker_binary =
      c.native_worker_binary.empty() ? Beside("botmodels-worker-native") : c.native_worker_binary;
  auto& args = o.common_args;
  const auto add = [&args](std::string_view name, std::string value) {
    args.emplace_back(name);
    args.push_back(std::move(value));
  };
  add(flag::kBroker, c.backend);
  add(flag::kRepository, c.repository);
  add(flag::kLogLevel, c.log_level);
  add(flag::kLogFormat, c.log_format);
  add(flag::kHeartbeatMs, std::to_string(c.heartbeat.count()));
  add(flag::kLivenessMs, std::to_string(c.liveness.count()));
  // The worker decodes the broker's requests within the broker's own limits.
  add(flag::kMaxMessageBytes, std::to_string(c.limits.max_message_bytes));
  add(flag::kMaxTensors, std::to_string(c.limits.max_tensors));
  add(flag::kMaxRank, std::to_string(c.limits.max_rank));
  add(flag::kMaxElements, std::to_string(c.limits.max_elements));
  add(flag::kMaxDepth, std::to_string(c.limits.max_depth));
  add(flag::kMaxItems, std::to_string(c.limits.max_items));
  o.common_env[kWorkerSecretEnv] = keys.worker_secret;
  if (c.curve.backend) {
    add(flag::kCurveServerKey, keys.curve_key->public_key);
    o.common_env[kWorkerCurveKeyEnv] = keys.local_worker_key->secret_key;
  }
  o.backoff_min = c.backoff_min;
  o.backoff_max = c.backoff_max;
  o.stable_after = c.stable_after;
  o.stop_grace = c.stop_grace;
  return o;
}

SupervisorOptions ServiceLaunchOptions(const BrokerConfig& c) {
  SupervisorOptions o;
  o.backoff_min = c.backoff_min;
  o.backoff_max = c.backoff_max;
  o.stable_after = c.stable_after;
  o.stop_grace = c.stop_grace;
  return o;
}

std::optional<WorkerSpec> GatewaySpec(const BrokerConfig& c, const std::string& frontend) {
  if (!c.gateway) return std::nullopt;
  WorkerSpec spec;
  spec.id = "gateway";
  spec.binary = c.gateway_binary.empty() ? Beside("botmodels-gateway") : c.gateway_binary;
  spec.args = {"--config", std::filesystem::absolute(c.path).string(), "--broker", frontend};
  return spec;
}

}  // namespace botmodels
