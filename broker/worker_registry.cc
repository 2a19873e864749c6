#include "broker/worker_registry.h"

namespace botmodels {

void WorkerRegistry::Add(WorkerRecord record) {
  Remove(record.id);
  id_by_identity_[record.identity] = record.id;
  const std::string id = record.id;
  by_id_.emplace(id, std::move(record));
}

std::optional<WorkerRecord> WorkerRegistry::Remove(const std::string& id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  WorkerRecord record = std::move(it->second);
  by_id_.erase(it);
  id_by_identity_.erase(record.identity);
  return record;
}

WorkerRecord* WorkerRegistry::ById(const std::string& id) {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

WorkerRecord* WorkerRegistry::ByIdentity(const std::string& identity) {
  auto it = id_by_identity_.find(identity);
  return it == id_by_identity_.end() ? nullptr : ById(it->second);
}

WorkerRecord* WorkerRegistry::Pick(const std::string& model, uint32_t cpu_cores) {
  // A linear scan: a model has a handful of workers (one per GPU and replica).
  WorkerRecord* busy = nullptr;  // the least loaded of those with requests in flight
  WorkerRecord* idle = nullptr;  // the warmest of those without
  uint64_t busy_cpu_threads = 0;
  for (auto& [id, w] : by_id_) {
    if (w.model != model) continue;
    const bool is_busy = !w.in_flight.empty();
    if (is_busy && w.on_cpu()) busy_cpu_threads += w.threads;
    if (!w.can_take()) continue;
    if (is_busy && (!busy || w.in_flight.size() < busy->in_flight.size())) busy = &w;
    if (!is_busy && (!idle || w.last_job > idle->last_job)) idle = &w;
  }
  if (!idle) return busy;
  const bool cores_spare =
      cpu_cores == 0 || busy_cpu_threads == 0 || busy_cpu_threads + idle->threads <= cpu_cores;
  if (busy && idle->on_cpu() && !cores_spare) return busy;
  return idle;
}

std::vector<std::string> WorkerRegistry::Silent(Clock::TimePoint now,
                                                Clock::duration liveness) const {
  std::vector<std::string> ids;
  for (const auto& [id, w] : by_id_) {
    if (now - w.last_heard >= liveness) ids.push_back(id);
  }
  return ids;
}

size_t WorkerRegistry::Usable(const std::string& model) const {
  size_t n = 0;
  for (const auto& [id, w] : by_id_) {
    n += w.model == model && w.state != protocol::ModelState::kFailed;
  }
  return n;
}

}  // namespace botmodels
