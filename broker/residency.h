#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "broker/admin.h"
#include "broker/router.h"
#include "common/clock.h"
#include "models/registry/model_config.h"

namespace botmodels {

// Idle unloading, per model `idle_unload_s` (docs/operations.md, "Idle
// models"): a model that has had nothing queued or running for that long
// is evicted: its workers stop (drained first), giving their memory back to
// the host or the GPU. Its next request queues as usual and wakes it: the
// workers start again, and the request is served once the model has
// loaded, within its deadline.
//
// Single-threaded (the broker's event loop); not thread-safe.
class Residency {
 public:
  // References must outlive this object; `models` may change between calls.
  Residency(const Clock& clock, const Router& router, const std::vector<ModelConfig>& models);

  // A request for a served `model` arrived (call before routing it): wakes
  // it through `admin` if evicted.
  void OnRequest(const std::string& model, Admin& admin);

  // Evicts through `admin` the models idle past their idle_unload_s.
  void Tick(Admin& admin);

  const std::set<std::string>& evicted() const { return evicted_; }

 private:
  bool Busy(const std::string& model) const;     // anything queued or running
  bool Serving(const std::string& model) const;  // a worker registered and not draining

  const Clock& clock_;
  const Router& router_;
  const std::vector<ModelConfig>& models_;
  // By model: when it last had a request queued or running (from the start).
  std::map<std::string, Clock::TimePoint> last_request_;
  std::set<std::string> evicted_;
};

}  // namespace botmodels
