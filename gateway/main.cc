// botmodels-gateway: the Python botmodels service's HTTP API, served by a
// broker's models. No libtorch here.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>

#include "client/client_config.h"
#include "common/broker_config.h"
#include "common/curve_keys.h"
#include "common/log_format.h"
#include "gateway/gateway.h"

namespace {

// Each connection holds a file descriptor: the soft limit (often 1024) is
// raised to the hard one (systemd's LimitNOFILE, the container's).
void RaiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  const rlim_t was = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) == 0) {
    spdlog::info("gateway: open files limit {} -> {}", was, limit.rlim_cur);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"botmodels-gateway: the botmodels HTTP API (docs/gateway.md)"};
  std::string config_path, log_format, broker_endpoint;
  app.add_option("-c,--config", config_path, "config file with a [gateway] section (TOML)")
      ->required();
  app.add_option("--broker", broker_endpoint,
                 "the broker's frontend (default: the config's; the broker passes the one it "
                 "bound)");
  app.add_option("--log-format", log_format, "overrides [broker] log_format")
      ->check(CLI::IsMember({"text", "json"}));
  CLI11_PARSE(app, argc, argv);

  botmodels::SetLogFormat(log_format.empty() ? "text" : log_format, "gateway");
  auto config = botmodels::LoadBrokerConfig(config_path);
  if (!config.ok()) {
    spdlog::critical("{}", config.status().message());
    return 2;
  }
  botmodels::SetLogFormat(log_format.empty() ? config->log_format : log_format, "gateway");
  spdlog::set_level(spdlog::level::from_str(config->log_level));
  RaiseOpenFileLimit();
  if (!config->gateway) {
    spdlog::critical("{}: no [gateway] section (docs/gateway.md)", config_path);
    return 2;
  }
  auto keys = botmodels::ApiKeys::Load(config->gateway->api_keys_file);
  if (!keys.ok()) {
    spdlog::critical("[gateway] api_keys_file: {}", keys.status().message());
    return 2;
  }
  auto broker = botmodels::ClientOptionsFor(*config, config->gateway->broker_key_id);
  if (!broker.ok()) {
    spdlog::critical("[gateway] broker_key_id: {}", broker.status().message());
    return 2;
  }
  if (!broker_endpoint.empty()) broker->endpoint = broker_endpoint;
  broker->failover_endpoints = config->gateway->failover_brokers;
  if (config->curve.frontend) {
    if (botmodels::Status s =
            botmodels::AddClientCurve("", config->gateway->curve_key_file, &*broker);
        !s.ok() || broker->curve_server_key.empty()) {
      spdlog::critical("[gateway] curve_key_file: {}",
                       s.ok() ? "the broker's CURVE key is not readable" : s.message());
      return 2;
    }
  }

  // SIGTERM and SIGINT are waited for, not handled: no work in a signal handler.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // every thread started below inherits it

  spdlog::info("gateway: broker at {}", broker->endpoint);
  botmodels::Gateway gateway(std::move(*config->gateway), std::move(*keys), std::move(*broker));
  auto port = gateway.Start();
  if (!port.ok()) {
    spdlog::critical("{}", port.status().message());
    return 1;
  }
  int signal = 0;
  sigwait(&signals, &signal);
  spdlog::info("gateway stopping ({}): finishing the requests it holds", strsignal(signal));
  gateway.Stop();
  spdlog::info("gateway stopped");
  return 0;
}
