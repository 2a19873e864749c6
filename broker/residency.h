#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "broker/admin.h"
#include "broker/router.h"
#include "broker/supervisor.h"
#include "common/broker_config.h"
#include "common/clock.h"
#include "models/registry/model_config.h"

namespace botmodels {

// One device's residency, for `status` and /metrics.
struct DeviceUsage {
  std::string device;  // "cpu", "cuda:N"
  DeviceLimits limits;
  uint32_t resident_models = 0;  // models whose workers run (or start, or stop) on it
  uint64_t used_bytes = 0;       // their footprints (Residency::Footprint) summed
};

// Which models are resident: have worker processes (docs/operations.md,
// "Model residency"). A model is evicted, its workers stopped (drained
// first), when
// - it had nothing queued or running for its `idle_unload_s`, or
// - a device it runs on is past its [devices] limits (`max_resident_models`,
//   `memory_budget_mb`): idle models go first, least recently used first.
// A model with requests queued or running is never evicted. An evicted
// model's requests queue as usual and wake it as soon as it fits: idle
// models are evicted for it, and it waits while busy ones hold the room.
// A model placed on several devices goes where it fits: its workers on
// devices without room stay stopped ("parked") until it is evicted again.
// One that could never fit, its footprint past the budget of every device
// it may run on, is refused `out_of_memory` naming the budget.
//
// Room is counted from the supervisor's processes: an evicted model holds
// its room until its last process has exited. A model's footprint on a
// device is its workers there times one worker's memory: `memory_mb` when
// declared, else the most its workers have reported (resident set on the
// CPU, CUDA reserved memory on a GPU), 0 before any report.
//
// Single-threaded (the broker's event loop); not thread-safe.
class Residency {
 public:
  // References must outlive this object; `models` may change between calls.
  Residency(const Clock& clock, Router& router, const Supervisor& supervisor,
            const std::vector<ModelConfig>& models, std::map<std::string, DeviceLimits> limits);

  // A request for a served `model` arrived (call before routing it): wakes
  // it through `admin` if evicted and it fits. out_of_memory when it can
  // never fit; the request is then not to be routed.
  Status OnRequest(const std::string& model, Admin& admin);

  // Evicts idle models (idle_unload_s, devices past their limits) and wakes
  // waiting ones that now fit, through `admin`. Call once before the
  // supervisor's first Tick, so that models past the limits never start.
  void Tick(Admin& admin);

  const std::set<std::string>& evicted() const { return evicted_; }
  // Workers left stopped when their model woke where it fit.
  const std::set<std::string>& parked() const { return parked_; }
  // Every device some model runs on or [devices] names, by name.
  std::vector<DeviceUsage> Devices() const;
  // One worker's memory in bytes: declared, else measured; 0 when unknown.
  uint64_t Footprint(const std::string& model) const;

 private:
  using Holding = std::map<std::string, uint64_t>;  // on one device: model → bytes

  void Measure();
  void UnloadIdle(Admin& admin);
  // Wakes the waiting models that fit, evicting idle ones to make room.
  void Admit(Admin& admin);
  // Whether `model`, needing `need` bytes on `device` beside what is `on`
  // it, fits now, soon (once evicted models exit, idle ones evicted now to
  // that end), or not while busy models hold the room.
  enum class Room { kNow, kSoon, kNone };
  Room MakeRoom(const std::string& model, const std::string& device, uint64_t need, Holding on,
                Admin& admin);
  // Evicts idle models from devices past their limits (a footprint measured
  // larger than declared, an operator's load).
  void Shed(Admin& admin);
  void Evict(const std::string& model, Admin& admin);

  bool Busy(const std::string& model) const;     // anything queued or running
  bool Serving(const std::string& model) const;  // a worker registered and not draining
  const ModelConfig* Find(const std::string& model) const;
  // Slots of `model` per device: planned, whether running or not.
  std::map<std::string, uint32_t> Placement(const std::string& model) const;
  // By device: the models with a process running or due to start (resident,
  // or evicted and still exiting), all but `except`.
  std::map<std::string, Holding> Held(const std::string& except = "") const;
  uint64_t Need(const std::string& model, uint32_t workers) const;
  // The idle resident models of `on`, least recently used first.
  std::vector<std::string> Victims(const Holding& on) const;
  // Empty when `model` can fit on every device; else why not, naming the budget.
  std::string NeverFits(const std::string& model) const;

  const Clock& clock_;
  Router& router_;
  const Supervisor& supervisor_;
  const std::vector<ModelConfig>& models_;
  const std::map<std::string, DeviceLimits> limits_;
  // By model: when it last had a request queued or running (from the start).
  std::map<std::string, Clock::TimePoint> last_request_;
  std::map<std::string, uint64_t> measured_;  // by model: most bytes one worker reported
  std::set<std::string> evicted_;
  std::set<std::string> parked_;      // worker ids
  std::vector<std::string> waiting_;  // evicted with requests queued, oldest first
};

}  // namespace botmodels
