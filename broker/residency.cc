#include "broker/residency.h"

#include <spdlog/spdlog.h>

namespace botmodels {

Residency::Residency(const Clock& clock, const Router& router,
                     const std::vector<ModelConfig>& models)
    : clock_(clock), router_(router), models_(models) {}

void Residency::OnRequest(const std::string& model, Admin& admin) {
  last_request_[model] = clock_.Now();
  if (evicted_.erase(model) == 0) return;
  spdlog::info("model {}: a request for it: starting its workers again", model);
  admin.Wake(model);
}

bool Residency::Serving(const std::string& model) const {
  for (const auto& [id, w] : router_.workers().all()) {
    if (w.model == model && !w.draining) return true;
  }
  return false;
}

bool Residency::Busy(const std::string& model) const {
  if (router_.Queued(model) > 0) return true;
  for (const auto& [id, w] : router_.workers().all()) {
    if (w.model == model && !w.in_flight.empty()) return true;
  }
  return false;
}

void Residency::Tick(Admin& admin) {
  const auto now = clock_.Now();
  for (const ModelConfig& m : models_) {
    if (evicted_.contains(m.name)) {
      if (Serving(m.name)) {  // started again by an operator's `load`: idle from now
        evicted_.erase(m.name);
        last_request_[m.name] = now;
      }
      continue;
    }
    if (m.idle_unload.count() == 0) continue;
    auto [last, first_seen] = last_request_.try_emplace(m.name, now);
    if (Busy(m.name)) last->second = now;  // idle counts from the last request's end
    if (first_seen || now - last->second < m.idle_unload || !router_.Loaded(m.name)) continue;
    spdlog::info("model {}: no request for {} s: stopping its workers until the next one", m.name,
                 std::chrono::duration_cast<std::chrono::seconds>(now - last->second).count());
    evicted_.insert(m.name);
    admin.Sleep(m.name);
  }
}

}  // namespace botmodels
