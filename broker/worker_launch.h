#pragma once

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

}  // namespace botmodels
