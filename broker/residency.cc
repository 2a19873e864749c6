#include "broker/residency.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace botmodels {
namespace {

constexpr uint64_t kMiB = 1 << 20;

uint64_t Sum(const std::map<std::string, uint64_t>& bytes_by_model) {
  uint64_t sum = 0;
  for (const auto& [model, bytes] : bytes_by_model) sum += bytes;
  return sum;
}

// Whether `models` holding `bytes` in all stay within `limits`.
bool Within(const DeviceLimits& limits, size_t models, uint64_t bytes) {
  return (limits.max_resident_models == 0 || models <= limits.max_resident_models) &&
         (limits.memory_budget_mb == 0 || bytes <= limits.memory_budget_mb * kMiB);
}

}  // namespace

Residency::Residency(const Clock& clock, Router& router, const Supervisor& supervisor,
                     const std::vector<ModelConfig>& models,
                     std::map<std::string, DeviceLimits> limits)
    : clock_(clock),
      router_(router),
      supervisor_(supervisor),
      models_(models),
      limits_(std::move(limits)) {}

Status Residency::OnRequest(const std::string& model, Admin& admin) {
  last_request_[model] = clock_.Now();
  if (!evicted_.contains(model)) return {};
  if (std::string why = NeverFits(model); !why.empty()) return {ErrorCode::kOutOfMemory, why};
  if (std::find(waiting_.begin(), waiting_.end(), model) == waiting_.end()) {
    spdlog::info("model {}: a request for it: starting its workers again once they fit", model);
    waiting_.push_back(model);
  }
  Admit(admin);
  return {};
}

void Residency::Tick(Admin& admin) {
  for (const ModelConfig& m : models_) {
    if (Busy(m.name)) last_request_[m.name] = clock_.Now();  // used until its last request ends
  }
  Measure();
  std::erase_if(parked_, [&](const std::string& id) {  // started again by an operator's `load`
    const WorkerSlot* slot = supervisor_.Find(id);
    return !slot || !slot->stopped;
  });
  UnloadIdle(admin);
  // Those whose requests all expired, or that an operator loaded, wait no more.
  std::erase_if(waiting_, [&](const std::string& model) {
    return !evicted_.contains(model) || router_.Queued(model) == 0;
  });
  Admit(admin);
  Shed(admin);
}

void Residency::Measure() {
  for (const auto& [id, w] : router_.workers().all()) {
    const uint64_t bytes = w.on_cpu() ? w.memory.rss_bytes : w.memory.gpu_reserved_bytes;
    uint64_t& most = measured_[w.model];
    most = std::max(most, bytes);
  }
}

void Residency::UnloadIdle(Admin& admin) {
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
    if (!router_.Loaded(m.name)) {  // loading is not idling: idle counts from the load
      last->second = now;
      continue;
    }
    if (first_seen || now - last->second < m.idle_unload) continue;
    spdlog::info("model {}: no request for {} s: stopping its workers until the next one", m.name,
                 std::chrono::duration_cast<std::chrono::seconds>(now - last->second).count());
    Evict(m.name, admin);
  }
}

void Residency::Admit(Admin& admin) {
  const std::vector<std::string> waiting = waiting_;
  for (const std::string& model : waiting) {
    if (std::string why = NeverFits(model); !why.empty()) {
      spdlog::warn("model {}: {}", model, why);
      router_.Refuse(model, {ErrorCode::kOutOfMemory, why});
      std::erase(waiting_, model);
      continue;
    }
    std::map<std::string, Holding> held = Held(model);
    const std::map<std::string, uint32_t> placement = Placement(model);
    std::set<std::string> room;  // devices it fits on now
    bool soon = false;           // models evicted for it are still exiting
    for (const auto& [device, workers] : placement) {
      const Room r = MakeRoom(model, device, Need(model, workers), held[device], admin);
      if (r == Room::kNow) room.insert(device);
      soon = soon || r == Room::kSoon;
    }
    // Wait for the exits, or for a busy model to go idle where none has room.
    if (soon || room.empty()) continue;
    std::erase(waiting_, model);
    evicted_.erase(model);
    last_request_[model] = clock_.Now();
    if (room.size() == placement.size()) {
      spdlog::info("model {}: it fits: starting its workers", model);
      admin.Wake(model);
      continue;
    }
    // It goes where it fits: its workers elsewhere stay stopped until it is evicted.
    spdlog::info("model {}: it fits on {} of its {} devices: starting its workers there", model,
                 room.size(), placement.size());
    admin.Wake(model, room);
    for (const WorkerSlot& slot : supervisor_.slots()) {
      if (slot.spec.model == model && !room.contains(slot.spec.device)) {
        parked_.insert(slot.spec.id);
      }
    }
  }
}

Residency::Room Residency::MakeRoom(const std::string& model, const std::string& device,
                                    uint64_t need, Holding on, Admin& admin) {
  const DeviceLimits limits = LimitsOf(limits_, device);
  const auto fits = [&] { return Within(limits, on.size() + 1, Sum(on) + need); };
  if (!Within(limits, 1, need)) return Room::kNone;  // past this device's budget on its own
  if (fits()) return Room::kNow;
  std::erase_if(on, [&](const auto& entry) { return evicted_.contains(entry.first); });
  std::vector<std::string> victims;
  for (const std::string& victim : Victims(on)) {
    if (fits()) break;
    victims.push_back(victim);
    on.erase(victim);
  }
  if (!fits()) return Room::kNone;  // busy models hold it: evict nothing
  for (const std::string& victim : victims) {
    spdlog::info("model {}: evicted from {} to make room for {}", victim, device, model);
    Evict(victim, admin);
  }
  return Room::kSoon;
}

void Residency::Shed(Admin& admin) {
  if (limits_.empty()) return;  // every Tick: no work without [devices]
  for (auto& [device, on] : Held()) {
    const DeviceLimits limits = LimitsOf(limits_, device);
    if (!limits.limited()) continue;
    std::erase_if(on, [&](const auto& entry) { return evicted_.contains(entry.first); });
    for (const std::string& victim : Victims(on)) {
      if (Within(limits, on.size(), Sum(on))) break;
      spdlog::info("model {}: evicted: {} is past its limits", victim, device);
      Evict(victim, admin);
      on.erase(victim);
    }
  }
}

void Residency::Evict(const std::string& model, Admin& admin) {
  std::erase_if(parked_, [&](const std::string& id) {
    const WorkerSlot* slot = supervisor_.Find(id);
    return !slot || slot->spec.model == model;
  });
  evicted_.insert(model);
  admin.Sleep(model);
}

std::vector<DeviceUsage> Residency::Devices() const {
  std::map<std::string, DeviceUsage> by_device;
  for (const WorkerSlot& slot : supervisor_.slots()) by_device[slot.spec.device];
  for (const auto& [device, limits] : limits_) {
    if (device != "cuda") by_device[device];  // "cuda" stands for each GPU: named by them
  }
  for (const auto& [device, on] : Held()) {
    by_device[device].resident_models = static_cast<uint32_t>(on.size());
    by_device[device].used_bytes = Sum(on);
  }
  std::vector<DeviceUsage> devices;
  for (auto& [device, usage] : by_device) {
    usage.device = device;
    usage.limits = LimitsOf(limits_, device);
    devices.push_back(std::move(usage));
  }
  return devices;
}

uint64_t Residency::Footprint(const std::string& model) const {
  if (const ModelConfig* m = Find(model); m && m->memory_mb > 0) return m->memory_mb * kMiB;
  auto it = measured_.find(model);
  return it == measured_.end() ? 0 : it->second;
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

const ModelConfig* Residency::Find(const std::string& model) const {
  for (const ModelConfig& m : models_) {
    if (m.name == model) return &m;
  }
  return nullptr;
}

std::map<std::string, uint32_t> Residency::Placement(const std::string& model) const {
  std::map<std::string, uint32_t> workers;
  for (const WorkerSlot& slot : supervisor_.slots()) {
    if (slot.spec.model == model && !slot.removing) ++workers[slot.spec.device];
  }
  return workers;
}

std::map<std::string, Residency::Holding> Residency::Held(const std::string& except) const {
  std::map<std::string, std::map<std::string, uint32_t>> workers;  // device → model → count
  for (const WorkerSlot& slot : supervisor_.slots()) {
    const bool holds = slot.pid != 0 || (!slot.stopped && !slot.removing);
    if (holds && slot.spec.model != except) ++workers[slot.spec.device][slot.spec.model];
  }
  std::map<std::string, Holding> held;
  for (const auto& [device, by_model] : workers) {
    for (const auto& [model, count] : by_model) held[device][model] = Need(model, count);
  }
  return held;
}

uint64_t Residency::Need(const std::string& model, uint32_t workers) const {
  return Footprint(model) * workers;
}

std::vector<std::string> Residency::Victims(const Holding& on) const {
  std::vector<std::string> victims;
  for (const auto& [model, bytes] : on) {
    if (!evicted_.contains(model) && !Busy(model) && router_.Serves(model) &&
        router_.Loaded(model)) {
      victims.push_back(model);
    }
  }
  // Least recently used first; never used: the last configured first.
  const auto rank = [&](const std::string& model) {
    auto used = last_request_.find(model);
    const auto position = std::find_if(models_.begin(), models_.end(),
                                       [&](const ModelConfig& m) { return m.name == model; });
    return std::pair(used == last_request_.end() ? Clock::TimePoint{} : used->second,
                     -(position - models_.begin()));
  };
  std::sort(victims.begin(), victims.end(),
            [&](const std::string& a, const std::string& b) { return rank(a) < rank(b); });
  return victims;
}

std::string Residency::NeverFits(const std::string& model) const {
  std::string why;
  for (const auto& [device, workers] : Placement(model)) {
    const DeviceLimits limits = LimitsOf(limits_, device);
    const uint64_t need = Need(model, workers);
    if (limits.memory_budget_mb == 0 || need <= limits.memory_budget_mb * kMiB) return {};
    if (why.empty()) {
      why = fmt::format(
          "model {} needs {} MiB on {} ({} workers of {} MiB), more than its memory_budget_mb of "
          "{}",
          model, (need + kMiB - 1) / kMiB, device, workers, (Footprint(model) + kMiB - 1) / kMiB,
          limits.memory_budget_mb);
    }
  }
  return why;  // past the budget of every device it may run on
}

}  // namespace botmodels
