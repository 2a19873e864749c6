#include "broker/readiness.h"

#include "broker/status_page.h"

namespace botmodels {

Readiness::Readiness(const Clock& clock, Clock::TimePoint started, ProbeServer& http,
                     const Metrics& metrics, const Router& router, const Supervisor& supervisor,
                     const Residency& residency, const std::vector<ModelConfig>& models)
    : clock_(clock),
      http_(http),
      metrics_(metrics),
      router_(router),
      supervisor_(supervisor),
      residency_(residency),
      models_(models),
      started_(started) {}

HealthSnapshot Readiness::Snapshot(bool draining) const {
  HealthSnapshot snapshot;
  snapshot.metrics = metrics_.Render(router_, supervisor_, clock_.Now() - started_, &residency_);
  snapshot.ready = !draining;
  for (const ModelConfig& m : models_) {
    bool ready = false;
    for (const auto& [id, w] : router_.workers().all()) {
      if (w.model != m.name || w.draining) continue;
      ready = ready || w.state == protocol::ModelState::kReady ||
              (!m.preload && w.state != protocol::ModelState::kFailed);
    }
    // An evicted model is ready: its next request starts its workers.
    const bool evicted = residency_.evicted().contains(m.name);
    snapshot.model_ready[m.name] = (ready || evicted) && !draining && router_.Loaded(m.name);
    snapshot.ready = snapshot.ready && (ready || evicted || !router_.Loaded(m.name));
  }
  snapshot.status = StatusJson(models_, router_, supervisor_, metrics_, &residency_,
                               clock_.Now() - started_, snapshot.ready, draining);
  return snapshot;
}

void Readiness::Publish(bool draining) {
  constexpr std::chrono::milliseconds kEvery{250};  // how fresh /metrics and /readyz are
  const auto now = clock_.Now();
  if (now - last_published_ < kEvery) return;
  last_published_ = now;
  http_.Publish(Snapshot(draining));
}

}  // namespace botmodels
