#include "broker/reports.h"

namespace botmodels {

protocol::Reply ModelsReport(const std::vector<ModelConfig>& models, const Router& router) {
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
    if (!router.Loaded(m.name)) {
      info.state = "unloaded";
    } else if (info.ready_workers > 0) {
      info.state = "ready";
    } else if (loading) {
      info.state = "loading";
    } else if (!info.last_error.empty()) {
      info.state = "load_failed";
    } else if (info.workers > 0) {
      info.state = "idle";
    } else {
      info.state = "unavailable";
    }
    reply.models.push_back(std::move(info));
  }
  return reply;
}

protocol::Reply StatusReport(const Supervisor& supervisor, const Router& router) {
  protocol::Reply reply;
  auto describe = [&](const WorkerRecord& w, protocol::WorkerInfo& info) {
    info.state = protocol::ModelStateName(w.state);
    info.in_flight = static_cast<uint32_t>(w.in_flight.size());
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
    info.state = slot.pid != 0 ? "starting" : slot.stopped ? "stopped" : "backoff";
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
  return reply;
}

}  // namespace botmodels
