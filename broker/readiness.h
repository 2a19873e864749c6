#pragma once

#include <vector>

#include "broker/metrics.h"
#include "broker/probe_server.h"
#include "broker/residency.h"
#include "broker/router.h"
#include "broker/supervisor.h"
#include "common/clock.h"
#include "models/registry/model_config.h"

namespace botmodels {

// What /readyz, /metrics and /status.json say (docs/operations.md, "Health checks"): the
// broker's loop publishes a snapshot to the HTTP server now and then.
// A model is ready when it can serve now: a preload model needs a loaded
// worker, a lazy one any worker that has not failed to load; a model an
// operator unloaded is not ready, but does not make the broker unready.
// The broker is ready when it is not draining and every loaded model is.
//
// Single-threaded (the broker's event loop); not thread-safe.
class Readiness {
 public:
  // References must outlive this object; `models` may change between calls.
  // `started`: when the broker started, for the uptime in /metrics.
  Readiness(const Clock& clock, Clock::TimePoint started, ProbeServer& http, const Metrics& metrics,
            const Router& router, const Supervisor& supervisor, const Residency& residency,
            const std::vector<ModelConfig>& models);

  // The snapshot now.
  HealthSnapshot Snapshot(bool draining) const;

  // Publishes Snapshot() unless the last one is fresh enough (250 ms).
  void Publish(bool draining);

 private:
  const Clock& clock_;
  ProbeServer& http_;
  const Metrics& metrics_;
  const Router& router_;
  const Supervisor& supervisor_;
  const Residency& residency_;
  const std::vector<ModelConfig>& models_;
  const Clock::TimePoint started_;
  Clock::TimePoint last_published_;
};

}  // namespace botmodels
