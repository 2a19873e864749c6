#include "broker/reports.h"

#include "broker/residency.h"

namespace botmodels {
namespace {

using protocol::ModelStatus;
using protocol::WorkerStatus;

WorkerStatus StatusOf(protocol::ModelState state) {
  switch (state) {
    case protocol::ModelState::kIdle:
      return WorkerStatus::kIdle;
    case protocol::ModelState::kLoading:
      return WorkerStatus::kLoading;
    case protocol::ModelState::kReady:
      return WorkerStatus::kReady;
    case protocol::ModelState::kFailed:
      return WorkerStatus::kLoadFailed;
  }
  return WorkerStatus::kIdle;
}

// A supervised worker that is not registered: starting (first start
// pending, or its process not registered yet), stopped, or in backoff.
WorkerStatus StatusOf(const WorkerSlot& slot, bool evicted) {
  if (slot.pid != 0) return WorkerStatus::kStarting;
  if (slot.stopped) return evicted ? WorkerStatus::kEvicted : WorkerStatus::kStopped;
  return slot.last_exit.empty() ? WorkerStatus::kStarting : WorkerStatus::kBackoff;
}

}  // namespace

protocol::Reply ModelsReport(const std::vector<ModelConfig>& models, const Router& router,
                             const Residency* residency) {
  protocol::Reply reply;
  for (const auto& m : models) {
    protocol::ModelInfo info;
    info.name = m.name;
    bool loading = false;
    for (const auto& [id, w] : router.workers().all()) {
      if (w.model != m.name) continue;
      ++info.workers;
      info.ready_workers += w.state == protocol::ModelState::kReady;
      loading = loading || w.state == protocol::ModelState::kLoading;
    }
    info.queued = router.Queued(m.name);
    info.queue_size = m.queue_size;
    info.last_error = router.LoadError(m.name);
    info.inputs = m.inputs;
    info.outputs = m.outputs;
    info.memory_bytes = residency ? residency->Footprint(m.name) : 0;
    if (!router.Loaded(m.name)) {
      info.state = ModelStatus::kUnloaded;
    } else if (residency && residency->evicted().contains(m.name)) {
      info.state = ModelStatus::kEvicted;
    } else if (info.ready_workers > 0) {
      info.state = ModelStatus::kReady;
    } else if (loading) {
      info.state = ModelStatus::kLoading;
    } else if (!info.last_error.empty()) {
      info.state = ModelStatus::kLoadFailed;
    } else if (info.workers > 0) {
      info.state = ModelStatus::kIdle;
    } else {
      info.state = ModelStatus::kUnavailable;
    }
    reply.models.push_back(std::move(info));
  }
  return reply;
}

protocol::Reply StatusReport(const Supervisor& supervisor, const Router& router,
                             const Residency* residency) {
  protocol::Reply reply;
  auto describe = [&](const WorkerRecord& w, protocol::WorkerInfo& info) {
    info.state = StatusOf(w.state);
    info.in_flight = static_cast<uint32_t>(w.in_flight.size());
    info.capacity = w.capacity;
    info.served = w.served;
    info.device = w.device;
    info.pid = w.pid;
    info.rss_bytes = w.memory.rss_bytes;
    info.gpu_bytes = w.memory.gpu_reserved_bytes;
  };
  for (const WorkerSlot& slot : supervisor.slots()) {
    protocol::WorkerInfo info;
    info.id = slot.spec.id;
    info.model = slot.spec.model;
    info.device = slot.spec.device;
    info.pid = slot.pid;
    info.restarts = slot.restarts;
    info.last_exit = slot.last_exit;
    const bool evicted = residency && (residency->evicted().contains(slot.spec.model) ||
                                       residency->parked().contains(slot.spec.id));
    info.state = StatusOf(slot, evicted);
    const auto& all = router.workers().all();
    if (auto it = all.find(slot.spec.id); it != all.end() && slot.pid != 0)
      describe(it->second, info);
    reply.workers.push_back(std::move(info));
  }
  for (const auto& [id, w] : router.workers().all()) {
    if (supervisor.Find(id)) continue;
    protocol::WorkerInfo info;  // a worker this broker did not start
    info.id = id;
    info.model = w.model;
    describe(w, info);
    reply.workers.push_back(std::move(info));
  }
  if (!residency) return reply;
  for (const DeviceUsage& d : residency->Devices()) {
    reply.devices.push_back({d.device, d.resident_models, d.limits.max_resident_models,
                             d.used_bytes, d.limits.memory_budget_mb << 20});
  }
  return reply;
}

}  // namespace botmodels
