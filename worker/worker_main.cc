#include "worker/worker_main.h"

#include <spdlog/spdlog.h>
#include <zmq.h>

#include <CLI/CLI.hpp>
#include <boost/algorithm/string.hpp>
#include <csignal>
#include <cstdlib>
#include <iostream>

#include "common/curve_keys.h"
#include "common/log_format.h"
#include "common/process_info.h"
#include "common/request_signer.h"
#include "common/worker_env.h"
#include "common/worker_flags.h"
#include "models/registry/model_config.h"
#include "worker/worker.h"

namespace {

namespace flag = botmodels::worker_flag;

std::string Flag(std::string_view name) { return std::string(name); }

void OnSignal(int) { botmodels::Worker::RequestStop(); }

// The worker secret and CURVE key from their files, else the environment the
// broker set (docs/security.md).
botmodels::Status LoadSecurity(const std::string& secret_file, const std::string& curve_key_file,
                               botmodels::LinkSecurity* security) {
  using namespace botmodels;
  if (!secret_file.empty() || std::getenv(kWorkerSecretEnv)) {
    auto secret = LoadSecret(secret_file, kWorkerSecretEnv);
    if (!secret.ok()) return secret.status();
    security->signer.emplace(kWorkerKeyId, std::move(*secret));
    ::unsetenv(kWorkerSecretEnv);  // nothing this process starts needs it
  }
  if (security->curve_server_key.empty()) return {};
  if (!curve_key_file.empty()) {
    auto key = LoadCurveSecretKey(curve_key_file);
    if (!key.ok()) return key.status();
    security->curve_key = std::move(*key);
  } else if (const char* text = std::getenv(kWorkerCurveKeyEnv)) {
    char public_key[41];
    if (zmq_curve_public(public_key, text) != 0) {
      return {ErrorCode::kInvalidRequest, std::string(kWorkerCurveKeyEnv) + " is not a CURVE key"};
    }
    security->curve_key = CurveKeyPair{public_key, text};
    ::unsetenv(kWorkerCurveKeyEnv);
  } else {
    return {ErrorCode::kInvalidRequest,
            "--curve-server-key needs --curve-key-file or " + std::string(kWorkerCurveKeyEnv)};
  }
  return {};
}

}  // namespace

namespace botmodels {

int WorkerMain(int argc, char** argv, const WorkerExecutable& executable) {
  CLI::App app{std::string(executable.name) +
               ": serves one model on one device for a botmodels broker"};
  WorkerOptions options;
  std::string repository, model, log_level = "info", log_format = "text";
  int64_t heartbeat_ms = options.heartbeat.count(), liveness_ms = options.liveness.count();
  bool probe = false;
  std::string secret_file, curve_key_file;
  protocol::Limits& limits = options.limits;
  app.add_flag(Flag(flag::kProbeDevices), probe,
               "print the number of usable CUDA devices and exit");
  std::string brokers;
  app.add_option(Flag(flag::kBroker), brokers,
                 "the broker's backend endpoint; a comma-separated list serves several brokers");
  app.add_option(Flag(flag::kId), options.worker_id, "this worker's id, unique per broker");
  app.add_option(Flag(flag::kRepository), repository, "the model repository folder");
  app.add_option(Flag(flag::kModel), model, "the model to serve");
  app.add_option(Flag(flag::kDevice), options.device, "cpu or cuda:N")->capture_default_str();
  app.add_flag(Flag(flag::kPreload), options.preload, "load the model before the first request");
  uint32_t threads = 0;
  app.add_option(Flag(flag::kThreads), threads,
                 "intra-op threads, over the model's setting (0: the model's; auto = all cores)");
  app.add_option(Flag(flag::kHeartbeatMs), heartbeat_ms, "heartbeat interval")
      ->capture_default_str();
  app.add_option(Flag(flag::kLivenessMs), liveness_ms, "broker silence that forces a reconnect")
      ->capture_default_str();
  app.add_option(Flag(flag::kWorkerSecretFile), secret_file,
                 "the worker secret (default: $BOTMODELS_WORKER_SECRET)");
  app.add_option(Flag(flag::kCurveServerKey), options.security.curve_server_key,
                 "the broker's CURVE public key (Z85), for a CURVE backend");
  app.add_option(Flag(flag::kCurveKeyFile), curve_key_file,
                 "this worker's CURVE secret key file (default: $BOTMODELS_WORKER_CURVE_KEY)");
  app.add_option(Flag(flag::kMaxMessageBytes), limits.max_message_bytes, "the broker's limit")
      ->capture_default_str();
  app.add_option(Flag(flag::kMaxTensors), limits.max_tensors, "the broker's limit")
      ->capture_default_str();
  app.add_option(Flag(flag::kMaxRank), limits.max_rank, "the broker's limit")
      ->capture_default_str();
  app.add_option(Flag(flag::kMaxElements), limits.max_elements, "the broker's limit")
      ->capture_default_str();
  app.add_option(Flag(flag::kMaxDepth), limits.max_depth, "the broker's limit")
      ->capture_default_str();
  app.add_option(Flag(flag::kMaxItems), limits.max_items, "the broker's limit")
      ->capture_default_str();
  app.add_option(Flag(flag::kLogFormat), log_format, "text, or json: one object per line")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option(Flag(flag::kLogLevel), log_level, "trace, debug, info, warn, error, critical")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical"}));
  CLI11_PARSE(app, argc, argv);
  KeepLargeBuffersInTheHeap();

  if (probe) {
    std::cout << (executable.cuda_devices ? executable.cuda_devices() : 0) << "\n";
    return kExitOk;
  }
  boost::split(options.brokers, brokers, boost::is_any_of(","));
  std::erase(options.brokers, "");
  if (options.brokers.empty() || options.worker_id.empty() || repository.empty() || model.empty()) {
    std::cerr << executable.name << ": --broker, --id, --repository and --model are required\n";
    return kExitUsage;
  }
  spdlog::set_level(spdlog::level::from_str(log_level));
  SetLogFormat(log_format, "worker " + options.worker_id,
               {{"worker", options.worker_id}, {"model", model}});
  if (!IsValidDevice(options.device) || options.device == "auto") {
    spdlog::error("--device {}: expected cpu, cuda or cuda:N", options.device);
    return kExitUsage;
  }
  auto config = LoadModelConfig(repository + "/" + model);
  if (!config.ok()) {
    spdlog::error("{}", config.status().message());
    return kExitLoadFailed;
  }
  options.model = std::move(*config);
  options.make_backend = executable.make_backend;
  if (threads > 0) options.model.threads = threads;
  options.security.max_message_bytes = limits.max_message_bytes;
  if (auto s = LoadSecurity(secret_file, curve_key_file, &options.security); !s.ok()) {
    spdlog::error("{}", s.message());
    return kExitUsage;
  }
  if (!options.security.signer && !options.security.curve_key) {
    spdlog::warn("no worker secret and no CURVE key: the broker will refuse this worker");
  }
  options.heartbeat = std::chrono::milliseconds(heartbeat_ms);
  options.liveness = std::chrono::milliseconds(liveness_ms);

  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  try {
    return Worker(std::move(options)).Run();
  } catch (const std::exception& e) {
    spdlog::critical("worker failed: {}", e.what());
    return kExitFatal;
  }
}

}  // namespace botmodels
