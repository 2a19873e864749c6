#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/protocol.h"

namespace botmodels {

// A registered worker, as the broker sees it.
struct WorkerRecord {
  std::string id;        // from its hello, e.g. "mlp-0"
  std::string identity;  // its ZeroMQ routing id on the backend
  std::string model;
  std::string device;
  uint32_t capacity = 1;  // requests it accepts at once
  uint32_t threads = 0;   // the cores its forwards use; 0: unknown, not counted
  int64_t pid = 0;
  protocol::ModelState state = protocol::ModelState::kIdle;
  std::set<uint64_t> in_flight;   // tickets sent and not yet replied to
  uint64_t served = 0;            // replies received
  Clock::TimePoint last_heard;    // any message from it
  Clock::TimePoint last_sent;     // any message to it
  Clock::TimePoint last_job;      // the last request sent to it
  bool draining = false;          // an operator's drain or restart: no new requests
  uint64_t load_ms = 0;           // its model's load and warm-up time, once ready
  protocol::WorkerMemory memory;  // its last memory report

  bool can_take() const {
    return !draining && state != protocol::ModelState::kFailed && in_flight.size() < capacity;
  }
  bool on_cpu() const { return device == "cpu"; }
};

// The registered workers, indexed by id and by routing identity.
// Single-threaded (the broker's event loop); not thread-safe.
class WorkerRegistry {
 public:
  // Registers a worker, replacing a record with the same id (callers settle
  // that record's in-flight requests first).
  void Add(WorkerRecord record);

  // Removes and returns the record, or nullopt when `id` is not registered.
  std::optional<WorkerRecord> Remove(const std::string& id);

  WorkerRecord* ById(const std::string& id);
  WorkerRecord* ByIdentity(const std::string& identity);

  // The worker of `model` to send its next request to; nullptr when none
  // can take one. The one with the fewest in flight, except that an idle CPU
  // worker is not woken while the model's busy CPU workers already use the
  // host's `cpu_cores` with their threads (0: no limit) and one of them has
  // room: more workers running at once than the cores can run only adds
  // switching. Among idle workers, the one sent a request last: its process
  // and caches are warm.
  WorkerRecord* Pick(const std::string& model, uint32_t cpu_cores);

  // Ids of workers silent for at least `liveness` at `now`.
  std::vector<std::string> Silent(Clock::TimePoint now, Clock::duration liveness) const;

  // Workers of `model` that have not failed to load.
  size_t Usable(const std::string& model) const;

  const std::map<std::string, WorkerRecord>& all() const { return by_id_; }
  std::map<std::string, WorkerRecord>& all() { return by_id_; }

 private:
  std::map<std::string, WorkerRecord> by_id_;
  std::map<std::string, std::string> id_by_identity_;
};

}  // namespace botmodels
