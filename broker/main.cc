// botmodels-broker: the broker and worker supervisor. No libtorch here.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdlib>

#include "broker/boost_process_launcher.h"
#include "broker/broker.h"
#include "broker/credentials.h"
#include "common/broker_config.h"
#include "common/log_format.h"
#include "models/registry/model_config.h"

namespace {

// Signals received: 1 drains, 2 stops at once (Broker::Run).
std::atomic<int> g_stop_requests{0};
static_assert(std::atomic<int>::is_always_lock_free, "incremented in a signal handler");

void OnSignal(int) { g_stop_requests.fetch_add(1); }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"botmodels-broker: serves models from a repository through supervised workers"};
  std::string config_path, log_level, log_format;
  bool check = false;
  app.add_option("-c,--config", config_path, "broker config file (TOML)")->required();
  app.add_option("--log-level", log_level, "overrides [broker] log_level")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical"}));
  app.add_option("--log-format", log_format, "overrides [broker] log_format")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--check", check, "validate the config and the model repository, then exit");
  CLI11_PARSE(app, argc, argv);

  botmodels::SetLogFormat(log_format.empty() ? "text" : log_format, "broker");
  auto config = botmodels::LoadBrokerConfig(config_path);
  if (!config.ok()) {
    spdlog::critical("{}", config.status().message());
    return 2;
  }
  if (!log_level.empty()) config->log_level = log_level;
  if (!log_format.empty()) config->log_format = log_format;
  botmodels::SetLogFormat(config->log_format, "broker");
  spdlog::set_level(spdlog::level::from_str(config->log_level));
  if (config->repository.empty()) {
    spdlog::critical("{}: no [models] repository: this file configures a gateway only",
                     config_path);
    return 2;
  }
  auto models = botmodels::LoadRepository(config->repository, config->serve);
  if (!models.ok()) {
    spdlog::critical("{}", models.status().message());
    return 2;
  }
  auto credentials = botmodels::LoadCredentials(*config);
  if (!credentials.ok()) {
    spdlog::critical("{} (docs/security.md)", credentials.status().message());
    return 2;
  }
  // The workers inherit this environment: they must not see the client secret.
  if (!config->auth.secret_env.empty()) ::unsetenv(config->auth.secret_env.c_str());
  if (check) {
    spdlog::info("{}: config and {} models are valid", config_path, models->size());
    return 0;
  }
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  try {
    botmodels::SteadyClock clock;
    botmodels::Broker broker(std::move(*config), std::move(*models), std::move(*credentials),
                             std::make_unique<botmodels::BoostProcessLauncher>(), clock,
                             g_stop_requests);
    return broker.Run();
  } catch (const std::exception& e) {
    spdlog::critical("broker failed: {}", e.what());
    return 1;
  }
}
