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

WorkerRecord* WorkerRegistry::LeastLoaded(const std::string& model) {
  // A linear scan: a model has a handful of workers (one per GPU and replica).
  WorkerRecord* best = nullptr;
  for (auto& [id, w] : by_id_) {
    if (w.model != model || !w.can_take()) continue;
    if (!best || w.in_flight.size() < best->in_flight.size() ||
        (w.in_flight.size() == best->in_flight.size() && w.last_sent < best->last_sent)) {
      best = &w;
    }
  }
  return best;
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
