#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "broker/process_launcher.h"
#include "common/broker_config.h"
#include "common/clock.h"

namespace botmodels {

// One worker process the supervisor keeps running.
struct WorkerSpec {
  std::string id;  // unique, e.g. "mlp-0"
  std::string model;
  std::string device;       // "cpu" or "cuda:N"
  uint32_t threads = 0;     // intra-op threads (--threads); 0: the model's own setting
  bool needs_torch = true;  // its backend needs libtorch: botmodels-worker, else -native
  // Set for a process that is not a worker (the gateway): it runs with
  // `args` alone, none of the worker flags.
  std::string binary = {};
  std::vector<std::string> args = {};
};

struct SupervisorOptions {
  std::string worker_binary;         // serves torchscript models
  std::string native_worker_binary;  // serves the rest, without libtorch
  // Arguments every worker gets (broker endpoint, repository, heartbeat...);
  // the supervisor adds --id, --model and --device.
  std::vector<std::string> common_args;
  // Environment every worker gets besides the broker's: its secrets.
  std::map<std::string, std::string> common_env;
  std::chrono::milliseconds backoff_min = BrokerConfig::kDefaultBackoffMin;  // first restart delay
  std::chrono::milliseconds backoff_max =
      BrokerConfig::kDefaultBackoffMax;  // delays double to this
  std::chrono::milliseconds stable_after = BrokerConfig::kDefaultStableAfter;  // resets the delay
  std::chrono::milliseconds stop_grace = BrokerConfig::kDefaultStopGrace;  // SIGTERM, then SIGKILL
};

// What the supervisor knows of one worker.
struct WorkerSlot {
  WorkerSpec spec;
  int64_t pid = 0;  // 0 while no process runs
  uint32_t restarts = 0;
  std::string last_exit;     // "" until it first exits
  bool load_failed = false;  // the last exit was kExitLoadFailed
  Clock::TimePoint started;
  Clock::TimePoint restart_at;  // when to start again while pid == 0
  std::chrono::milliseconds backoff{0};
  bool killed = false;       // SIGKILL sent to this process; its exit is not reaped yet
  bool restart_now = false;  // restarted on request: no backoff after this exit
  bool stopped = false;      // stopped on request: not restarted until Restart()
  bool removing = false;     // Remove()d: forgotten once its process has ended
  std::map<std::string, uint32_t> exits;  // ExitStatus::Reason() → times, for metrics
};

// A worker process that ended.
struct WorkerExit {
  std::string id;
  ExitStatus status;
  bool load_failed = false;
};

// Starts one process per WorkerSpec and restarts those that end, after an
// exponential backoff (capped) so a crash-looping model does not spin. A
// worker whose model failed to load is restarted with --preload, so the load
// is retried in the background rather than on a client's request.
//
// Single-threaded (the broker's event loop); not thread-safe.
class Supervisor {
 public:
  Supervisor(const Clock& clock, ProcessLauncher& launcher, SupervisorOptions options);

  // Registers a worker; it starts on the next Tick(). An id already known
  // takes `spec` from its next start, and starts again if it was stopped or
  // being removed.
  void Add(WorkerSpec spec);

  // Reaps ended workers (returned, with why) and starts those that are due.
  std::vector<WorkerExit> Tick();

  // Kills a worker declared dead (SIGKILL, once per process); its exit shows
  // in a later Tick().
  void Kill(const std::string& id);

  // Restarts a worker on an operator's request: kills it (SIGKILL) and starts
  // it again at once, without backoff; a stopped worker starts again. False
  // for an unknown id.
  bool Restart(const std::string& id);

  // Stops a worker on an operator's request (SIGTERM) and keeps it stopped
  // until Restart(). False for an unknown id.
  bool Stop(const std::string& id);

  // Stops a worker (SIGTERM) and forgets it once its process has ended (a
  // later Tick()): scaling down. False for an unknown id.
  bool Remove(const std::string& id);

  // SIGTERM to every worker, SIGKILL to those still running after
  // stop_grace, and waits until all have ended. Blocks; nothing restarts after.
  void StopAll();

  const SupervisorOptions& options() const { return options_; }
  const std::vector<WorkerSlot>& slots() const { return slots_; }
  const WorkerSlot* Find(const std::string& id) const;

 private:
  void StartSlot(WorkerSlot& slot);
  void OnExit(WorkerSlot& slot, const ExitStatus& status);

  const Clock& clock_;
  ProcessLauncher& launcher_;
  const SupervisorOptions options_;
  std::vector<WorkerSlot> slots_;
  bool stopping_ = false;
};

}  // namespace botmodels
