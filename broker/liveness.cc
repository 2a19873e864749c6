#include "broker/liveness.h"

#include <spdlog/spdlog.h>

#include "common/log_format.h"

namespace botmodels {

Liveness::Liveness(const Clock& clock, Router& router, Supervisor& supervisor,
                   LivenessOptions options)
    : clock_(clock), router_(router), supervisor_(supervisor), options_(options) {}

std::vector<std::string> Liveness::Check() {
  std::vector<std::string> killed;
  const auto now = clock_.Now();
  const auto kill = [&](const std::string& id) {
    router_.OnWorkerGone(id, Departure::kDied);
    supervisor_.Kill(id);
    killed.push_back(id);
  };
  for (const std::string& id : router_.workers().Silent(now, options_.liveness)) {
    LogFields fields{{"worker", id}};
    spdlog::warn("worker {} silent for {} ms: declared dead", id, options_.liveness.count());
    kill(id);
  }
  for (const std::string& id : router_.HungWorkers(options_.hung_after)) {
    LogFields fields{{"worker", id}};
    spdlog::warn("worker {} still runs a request {} ms past its deadline: hung, killing it", id,
                 options_.hung_after.count());
    kill(id);
  }
  for (const WorkerSlot& slot : supervisor_.slots()) {
    if (slot.pid != 0 && !slot.killed && !router_.workers().ById(slot.spec.id) &&
        now - slot.started >= options_.register_timeout) {
      LogFields fields{{"worker", slot.spec.id}, {"model", slot.spec.model}};
      spdlog::warn("worker {} (pid {}) has not registered {} ms after its start: killing it",
                   slot.spec.id, slot.pid, options_.register_timeout.count());
      supervisor_.Kill(slot.spec.id);
      killed.push_back(slot.spec.id);
    }
  }
  return killed;
}

}  // namespace botmodels
