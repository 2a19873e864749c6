// botmodels-worker: serves one model on one device for a broker.
#include <spdlog/spdlog.h>
#include <torch/cuda.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>

#include "common/model_config.h"
#include "worker/worker.h"

namespace {

void OnSignal(int) { botmodels::Worker::RequestStop(); }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"botmodels-worker: serves one model on one device for a botmodels broker"};
  botmodels::WorkerOptions options;
  std::string repository, model, log_level = "info";
  int64_t heartbeat_ms = options.heartbeat.count(), liveness_ms = options.liveness.count();
  bool probe = false;
  app.add_flag("--probe-devices", probe, "print the number of usable CUDA devices and exit");
  app.add_option("--broker", options.broker, "the broker's backend endpoint");
  app.add_option("--id", options.worker_id, "this worker's id, unique per broker");
  app.add_option("--repository", repository, "the model repository folder");
  app.add_option("--model", model, "the model to serve");
  app.add_option("--device", options.device, "cpu or cuda:N")->capture_default_str();
  app.add_flag("--preload", options.preload, "load the model before the first request");
  app.add_option("--heartbeat-ms", heartbeat_ms, "heartbeat interval")->capture_default_str();
  app.add_option("--liveness-ms", liveness_ms, "broker silence that forces a reconnect")
      ->capture_default_str();
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical"}));
  CLI11_PARSE(app, argc, argv);

  if (probe) {
    std::cout << (torch::cuda::is_available() ? torch::cuda::device_count() : 0) << "\n";
    return botmodels::kExitOk;
  }
  if (options.broker.empty() || options.worker_id.empty() || repository.empty() || model.empty()) {
    std::cerr << "botmodels-worker: --broker, --id, --repository and --model are required\n";
    return botmodels::kExitUsage;
  }
  spdlog::set_level(spdlog::level::from_str(log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [worker " + options.worker_id + " %P] %v");
  if (!botmodels::IsValidDevice(options.device) || options.device == "auto") {
    spdlog::error("--device {}: expected cpu, cuda or cuda:N", options.device);
    return botmodels::kExitUsage;
  }
  auto config = botmodels::LoadModelConfig(repository + "/" + model);
  if (!config.ok()) {
    spdlog::error("{}", config.status().message());
    return botmodels::kExitLoadFailed;
  }
  options.model = std::move(*config);
  options.heartbeat = std::chrono::milliseconds(heartbeat_ms);
  options.liveness = std::chrono::milliseconds(liveness_ms);

  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  try {
    return botmodels::Worker(std::move(options)).Run();
  } catch (const std::exception& e) {
    spdlog::critical("worker failed: {}", e.what());
    return botmodels::kExitFatal;
  }
}
