#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "broker/router.h"
#include "broker/supervisor.h"
#include "common/broker_config.h"
#include "common/clock.h"

namespace botmodels {

// The [broker] and [supervisor] settings of the same names.
struct LivenessOptions {
  std::chrono::milliseconds liveness = protocol::kDefaultLiveness;         // silent this long: dead
  std::chrono::milliseconds hung_after = BrokerConfig::kDefaultHungAfter;  // past a deadline: hung
  std::chrono::milliseconds register_timeout =
      BrokerConfig::kDefaultRegisterTimeout;  // unregistered
};

// What the broker does about workers that stopped working without exiting
// (docs/architecture.md, "Life of a worker"). Each Check() finds
//   - registered workers silent for `liveness` (no message, heartbeats
//     included): dead;
//   - workers still running a request `hung_after` past its deadline (it was
//     answered deadline_exceeded then): hung;
//   - started processes not registered `register_timeout` after their start:
//     hung in their start-up;
// and kills each one (SIGKILL through the supervisor, which restarts it).
// The router settles a dead or hung worker's requests at once, as for a
// crash: retried once on a sibling, else worker_crashed.
//
// Single-threaded (the broker's event loop); not thread-safe.
class Liveness {
 public:
  // References must outlive this object.
  Liveness(const Clock& clock, Router& router, Supervisor& supervisor, LivenessOptions options);

  // Finds and kills the workers above; returns their ids.
  std::vector<std::string> Check();

 private:
  const Clock& clock_;
  Router& router_;
  Supervisor& supervisor_;
  const LivenessOptions options_;
};

}  // namespace botmodels
