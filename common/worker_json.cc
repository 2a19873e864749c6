#include "common/worker_json.h"

namespace botmodels {

nlohmann::ordered_json WorkerJson(const protocol::WorkerInfo& w) {
  return {{"id", w.id},
          {"model", w.model},
          {"device", w.device},
          {"state", protocol::WorkerStatusName(w.state)},
          {"pid", w.pid},
          {"in_flight", w.in_flight},
          {"capacity", w.capacity},
          {"served", w.served},
          {"restarts", w.restarts},
          {"last_exit", w.last_exit},
          {"rss_bytes", w.rss_bytes},
          {"gpu_bytes", w.gpu_bytes}};
}

nlohmann::ordered_json DeviceJson(const protocol::DeviceInfo& d) {
  return {{"name", d.name},
          {"resident_models", d.resident_models},
          {"max_resident_models", d.max_resident_models},
          {"memory_used_bytes", d.memory_used_bytes},
          {"memory_budget_bytes", d.memory_budget_bytes}};
}

}  // namespace botmodels
