#include "broker/supervisor.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <thread>

#include "common/exit_codes.h"
#include "common/log_format.h"
#include "common/worker_env.h"
#include "common/worker_flags.h"

namespace botmodels {
namespace {

// "worker mlp-0 (mlp on cpu)", or "gateway" for a process that is not a worker.
std::string Describe(const WorkerSpec& spec) {
  if (!spec.binary.empty()) return spec.id;
  return "worker " + spec.id + " (" + spec.model + " on " + spec.device + ")";
}

}  // namespace

Supervisor::Supervisor(const Clock& clock, ProcessLauncher& launcher, SupervisorOptions options)
    : clock_(clock), launcher_(launcher), options_(std::move(options)) {}

void Supervisor::Add(WorkerSpec spec) {
  for (auto& slot : slots_) {
    if (slot.spec.id != spec.id) continue;
    // Known already, e.g. scaled down and up again before its process ended.
    slot.spec = std::move(spec);  // used from its next start
    slot.removing = false;
    if (slot.stopped) Restart(slot.spec.id);
    return;
  }
  WorkerSlot slot;
  slot.spec = std::move(spec);
  slot.restart_at = clock_.Now();
  slots_.push_back(std::move(slot));
}

const WorkerSlot* Supervisor::Find(const std::string& id) const {
  for (const auto& slot : slots_) {
    if (slot.spec.id == id) return &slot;
  }
  return nullptr;
}

std::vector<WorkerExit> Supervisor::Tick() {
  std::vector<WorkerExit> exits;
  for (auto& slot : slots_) {
    if (slot.pid != 0) {
      if (auto status = launcher_.Poll(slot.pid)) {
        OnExit(slot, *status);
        exits.push_back({slot.spec.id, *status, slot.load_failed});
      }
    }
    if (slot.pid == 0 && !stopping_ && !slot.stopped && clock_.Now() >= slot.restart_at) {
      StartSlot(slot);
    }
  }
  std::erase_if(slots_, [](const WorkerSlot& slot) { return slot.removing && slot.pid == 0; });
  return exits;
}

void Supervisor::OnExit(WorkerSlot& slot, const ExitStatus& status) {
  const auto now = clock_.Now();
  slot.pid = 0;
  slot.last_exit = status.ToString();
  ++slot.exits[status.Reason()];
  slot.load_failed = status.signal == 0 && status.code == kExitLoadFailed;
  if (slot.load_failed) slot.last_exit += " (model load failed)";
  if (status.signal == 0 && status.code == kExitDeviceLost) slot.last_exit += " (device lost)";
  if (slot.restart_now) {  // an operator's restart is no crash: no backoff
    slot.restart_now = false;
    slot.last_exit += " (restart requested)";
    slot.restart_at = now;
    return;
  }
  if (now - slot.started >= options_.stable_after || slot.backoff.count() == 0) {
    slot.backoff = options_.backoff_min;  // a long run (or the first exit) starts afresh
  } else {
    slot.backoff = std::min(slot.backoff * 2, options_.backoff_max);
  }
  slot.restart_at = now + slot.backoff;
  LogFields fields{{"worker", slot.spec.id}, {"model", slot.spec.model}};
  if (slot.stopped) {
    spdlog::info("{} stopped on request: {}", Describe(slot.spec), slot.last_exit);
  } else if (!stopping_) {
    spdlog::warn("{} ended: {}; restarting in {} ms", Describe(slot.spec), slot.last_exit,
                 slot.backoff.count());
  }
}

void Supervisor::StartSlot(WorkerSlot& slot) {
  const bool worker = slot.spec.binary.empty();
  std::vector<std::string> args = worker ? options_.common_args : slot.spec.args;
  if (worker) {
    args.insert(args.end(),
                {std::string(worker_flag::kId), slot.spec.id, std::string(worker_flag::kModel),
                 slot.spec.model, std::string(worker_flag::kDevice), slot.spec.device});
    if (slot.load_failed) args.emplace_back(worker_flag::kPreload);
    if (slot.spec.threads > 0)
      args.insert(args.end(),
                  {std::string(worker_flag::kThreads), std::to_string(slot.spec.threads)});
  }
  slot.started = clock_.Now();
  slot.killed = false;
  LogFields fields{{"worker", slot.spec.id}, {"model", slot.spec.model}};
  const std::string& binary = !worker                 ? slot.spec.binary
                              : slot.spec.needs_torch ? options_.worker_binary
                                                      : options_.native_worker_binary;
  std::map<std::string, std::string> env = options_.common_env;
  if (!slot.spec.needs_torch && slot.spec.threads > 0) {
    // OpenMP (Tesseract's) reads its limit once, at process start: the worker's share of the cores.
    env[std::string(kOmpThreadLimitEnv)] = std::to_string(slot.spec.threads);
  }
  auto pid = launcher_.Start(binary, args, env);
  if (!pid.ok()) {
    spdlog::error("{}: {}", Describe(slot.spec), pid.status().message());
    OnExit(slot, ExitStatus{kExitFatal, 0});
    slot.last_exit = pid.status().message();
    return;
  }
  if (slot.last_exit.empty()) {
    spdlog::info("started {}, pid {}", Describe(slot.spec), *pid);
  } else {
    ++slot.restarts;
    spdlog::info("restarted {}, pid {}, restart {}", Describe(slot.spec), *pid, slot.restarts);
  }
  slot.pid = *pid;
}

void Supervisor::Kill(const std::string& id) {
  for (auto& slot : slots_) {
    if (slot.spec.id == id && slot.pid != 0 && !slot.killed) {
      launcher_.Signal(slot.pid, SIGKILL);
      slot.killed = true;
    }
  }
}

bool Supervisor::Restart(const std::string& id) {
  for (auto& slot : slots_) {
    if (slot.spec.id != id) continue;
    spdlog::info("worker {}: restart requested", id);
    slot.stopped = false;
    if (slot.pid == 0) {
      slot.restart_at = clock_.Now();  // in backoff: start now
    } else {
      slot.restart_now = true;
      Kill(id);
    }
    return true;
  }
  return false;
}

bool Supervisor::Stop(const std::string& id) {
  for (auto& slot : slots_) {
    if (slot.spec.id != id) continue;
    spdlog::info("worker {}: stop requested", id);
    slot.stopped = true;
    slot.restart_now = false;
    if (slot.pid != 0) launcher_.Signal(slot.pid, SIGTERM);
    return true;
  }
  return false;
}

bool Supervisor::Remove(const std::string& id) {
  if (!Stop(id)) return false;
  for (auto& slot : slots_) {
    if (slot.spec.id == id) slot.removing = true;
  }
  return true;
}

void Supervisor::StopAll() {
  stopping_ = true;
  for (auto& slot : slots_) {
    if (slot.pid != 0) launcher_.Signal(slot.pid, SIGTERM);
  }
  const auto kill_at = clock_.Now() + options_.stop_grace;
  bool killed = false;
  constexpr std::chrono::milliseconds kPollInterval{10};  // exit latency vs. busy polling
  while (true) {
    bool running = false;
    for (auto& slot : slots_) {
      if (slot.pid != 0 && launcher_.Poll(slot.pid)) slot.pid = 0;
      running = running || slot.pid != 0;
    }
    if (!running) return;
    if (!killed && clock_.Now() >= kill_at) {
      for (auto& slot : slots_) {
        if (slot.pid != 0) {
          spdlog::warn("worker {} ignored SIGTERM for {} ms: killing it", slot.spec.id,
                       options_.stop_grace.count());
          launcher_.Signal(slot.pid, SIGKILL);
        }
      }
      killed = true;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace botmodels
