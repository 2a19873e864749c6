#pragma once

#include <optional>

#include "broker/credentials.h"
#include "broker/supervisor.h"
#include "common/broker_config.h"

namespace botmodels {

// How the broker starts its local workers: the config's backend endpoint,
// repository, logging, heartbeat and limits as the worker's flags
// (common/worker_flags.h), its secrets in the environment (never on a
// command line), and the restart policy of [supervisor]. The worker binaries
// are config.worker_binary and config.native_worker_binary, else
// botmodels-worker and botmodels-worker-native beside this executable.
SupervisorOptions WorkerLaunchOptions(const BrokerConfig& config,
                                      const BrokerCredentials& credentials);

// The gateway as a supervised process when the config has [gateway]:
// config.gateway_binary (else botmodels-gateway beside this executable)
// with --config <this config> and --broker <frontend>, the endpoint the
// broker bound (the config's may leave the port to the system). It reads its
// own keys: the workers' secrets are not in its environment.
std::optional<WorkerSpec> GatewaySpec(const BrokerConfig& config, const std::string& frontend);
// The restart policy of [supervisor], for processes that are not workers.
SupervisorOptions ServiceLaunchOptions(const BrokerConfig& config);

}  // namespace botmodels
