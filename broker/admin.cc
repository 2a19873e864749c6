#include "broker/admin.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "broker/worker_plan.h"
#include "common/log_format.h"

namespace botmodels {

Admin::Admin(Router& router, Supervisor& supervisor, std::vector<ModelConfig>& models, int gpus,
             int cores, bool local_workers)
    : router_(router),
      supervisor_(supervisor),
      models_(models),
      gpus_(gpus),
      cores_(cores),
      local_workers_(local_workers) {}

Status Admin::Run(const protocol::Request& request) {
  return protocol::NamesWorker(request.op) ? OnWorker(request) : OnModel(request);
}

Status Admin::OnWorker(const protocol::Request& request) {
  const std::string& id = request.worker;
  if (!supervisor_.Find(id)) {
    return InvalidRequest("no worker '" + id + "' is supervised by this broker (see status)");
  }
  if (request.op == protocol::Op::kRestart && request.force) {
    after_drain_.erase(id);
    supervisor_.Restart(id);  // its in-flight requests are retried on a sibling
    return {};
  }
  DrainThen(id, request.op == protocol::Op::kRestart ? AfterDrain::kRestart : AfterDrain::kStop);
  return {};
}

Status Admin::OnModel(const protocol::Request& request) {
  auto model = std::find_if(models_.begin(), models_.end(),
                            [&](const ModelConfig& m) { return m.name == request.model; });
  if (model == models_.end()) {
    return {ErrorCode::kUnknownModel, "no model named '" + request.model + "'"};
  }
  if (!local_workers_) {
    return InvalidRequest("this broker starts no workers ([supervisor] local_workers = false): " +
                          std::string(protocol::OpName(request.op)) +
                          " the remote workers where they run");
  }
  const std::vector<std::string> workers = WorkersOf(model->name);
  switch (request.op) {
    case protocol::Op::kUnload:
      spdlog::info("model {}: unloading {} workers", model->name, workers.size());
      router_.SetLoaded(model->name, false);
      for (const std::string& id : workers) DrainThen(id, AfterDrain::kStop);
      return {};
    case protocol::Op::kLoad:
      spdlog::info("model {}: loading", model->name);
      router_.SetLoaded(model->name, true);
      Wake(model->name);
      return {};
    case protocol::Op::kScale: {
      spdlog::info("model {}: scaling to {} replicas per device", model->name, request.replicas);
      model->replicas = request.replicas;
      router_.SetLoaded(model->name, true);
      std::set<std::string> planned;
      for (WorkerSpec& spec : PlanWorkers(models_, gpus_, cores_)) {
        if (spec.model != model->name) continue;
        planned.insert(spec.id);
        after_drain_.erase(spec.id);
        router_.Resume(spec.id);
        supervisor_.Add(std::move(spec));  // new ids start; known ones stay (stopped ones start)
      }
      for (const std::string& id : workers) {
        if (!planned.contains(id)) DrainThen(id, AfterDrain::kRemove);
      }
      return {};
    }
    default:
      return InvalidRequest("not an admin operation: " + std::string(protocol::OpName(request.op)));
  }
}

std::vector<std::string> Admin::WorkersOf(const std::string& model) const {
  std::vector<std::string> workers;
  for (const WorkerSlot& slot : supervisor_.slots()) {
    if (slot.spec.model == model && !slot.removing) workers.push_back(slot.spec.id);
  }
  return workers;
}

void Admin::Sleep(const std::string& model) {
  for (const std::string& id : WorkersOf(model)) DrainThen(id, AfterDrain::kStop);
}

void Admin::Wake(const std::string& model) {
  for (const std::string& id : WorkersOf(model)) WakeWorker(id);
}

void Admin::Wake(const std::string& model, const std::set<std::string>& devices) {
  for (const std::string& id : WorkersOf(model)) {
    if (devices.contains(supervisor_.Find(id)->spec.device)) WakeWorker(id);
  }
}

void Admin::WakeWorker(const std::string& id) {
  after_drain_.erase(id);
  if (supervisor_.Find(id)->stopped) {
    // Its process may still be exiting: it takes no request; a new one
    // starts and registers afresh.
    supervisor_.Restart(id);
    return;
  }
  router_.Resume(id);  // still draining: it serves on
}

void Admin::Reload(std::vector<ModelConfig> fresh) {
  std::set<std::string> changed, kept;
  for (ModelConfig& m : fresh) {
    kept.insert(m.name);
    router_.SetPolicy(PolicyOf(m));
    auto old = std::find_if(models_.begin(), models_.end(),
                            [&](const ModelConfig& o) { return o.name == m.name; });
    if (old != models_.end() && *old == m) continue;
    spdlog::info("reload: model {} {}", m.name, old == models_.end() ? "added" : "changed");
    changed.insert(m.name);
    router_.SetLoaded(m.name, true);
    if (old == models_.end()) {
      models_.push_back(std::move(m));
    } else {
      *old = std::move(m);
    }
  }
  std::erase_if(models_, [&](const ModelConfig& m) {
    if (kept.contains(m.name)) return false;
    spdlog::info("reload: model {} is gone from the repository: unloading it", m.name);
    router_.SetLoaded(m.name, false);
    return true;
  });
  if (!local_workers_) return;  // remote workers read their model.toml themselves
  std::set<std::string> planned;
  for (WorkerSpec& spec : PlanWorkers(models_, gpus_, cores_)) {
    planned.insert(spec.id);
    if (!changed.contains(spec.model)) continue;
    const WorkerSlot* slot = supervisor_.Find(spec.id);
    const bool running = slot && !slot->removing && !slot->stopped;
    const std::string id = spec.id;
    supervisor_.Add(std::move(spec));  // new ids start; known ones take the new spec
    if (running) DrainThen(id, AfterDrain::kRestart);
  }
  for (const WorkerSlot& slot : supervisor_.slots()) {
    if (!planned.contains(slot.spec.id) && !slot.removing) {
      DrainThen(slot.spec.id, AfterDrain::kRemove);
    }
  }
}

void Admin::DrainThen(const std::string& worker_id, AfterDrain action) {
  after_drain_[worker_id] = action;
  LogFields fields{{"worker", worker_id}};
  if (router_.Drain(worker_id)) {
    spdlog::info("worker {}: draining before {}", worker_id,
                 action == AfterDrain::kRestart ? "restart"
                 : action == AfterDrain::kStop  ? "stop"
                                                : "removal");
  } else {
    Finish(worker_id);  // not registered (starting, in backoff or stopped): nothing to finish
  }
}

void Admin::Tick(const std::vector<WorkerExit>& exits) {
  for (const WorkerExit& exit : exits) Finish(exit.id);  // it died while draining
  for (const std::string& id : router_.Drained()) Finish(id);
}

void Admin::Finish(const std::string& worker_id) {
  auto it = after_drain_.find(worker_id);
  if (it == after_drain_.end()) return;
  const AfterDrain action = it->second;
  after_drain_.erase(it);
  switch (action) {
    case AfterDrain::kRestart:
      supervisor_.Restart(worker_id);
      break;
    case AfterDrain::kStop:
      supervisor_.Stop(worker_id);
      break;
    case AfterDrain::kRemove: {
      LogFields fields{{"worker", worker_id}};
      spdlog::info("worker {}: removed (scaled down)", worker_id);
      supervisor_.Remove(worker_id);
      break;
    }
  }
}

}  // namespace botmodels
