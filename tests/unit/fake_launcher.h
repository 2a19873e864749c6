#pragma once

// A ProcessLauncher that pretends to run processes: tests decide when they
// end and what a probe prints.

#include <signal.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "broker/process_launcher.h"

namespace botmodels::testing {

class FakeLauncher final : public ProcessLauncher {
 public:
  Result<int64_t> Start(const std::string&, const std::vector<std::string>& args,
                        const std::map<std::string, std::string>& env) override {
    envs.push_back(env);
    const int64_t pid = next_pid_++;
    running_[pid] = args;
    starts.push_back(args);
    return pid;
  }
  std::optional<ExitStatus> Poll(int64_t pid) override {
    auto it = ended_.find(pid);
    if (it == ended_.end()) return std::nullopt;
    ExitStatus status = it->second;
    ended_.erase(it);
    running_.erase(pid);
    return status;
  }
  void Signal(int64_t pid, int signal) override {
    signals.emplace_back(pid, signal);
    if (fatal_signals.contains(signal) && running_.contains(pid))
      ended_[pid] = ExitStatus{0, signal};
  }
  Result<std::string> Output(const std::string& binary,
                             const std::vector<std::string>& args) override {
    outputs_run.push_back(args);
    if (!output) return Status(ErrorCode::kInternal, binary + " failed");
    return *output;
  }
  void End(int64_t pid, ExitStatus status) { ended_[pid] = status; }
  bool Running(int64_t pid) const { return running_.contains(pid) && !ended_.contains(pid); }

  std::vector<std::vector<std::string>> starts;
  std::vector<std::map<std::string, std::string>> envs;
  std::vector<std::pair<int64_t, int>> signals;
  std::set<int> fatal_signals{SIGTERM, SIGKILL};  // signals that end a fake process
  std::optional<std::string> output;              // what Output() prints; nullopt: it fails
  std::vector<std::vector<std::string>> outputs_run;

 private:
  int64_t next_pid_ = 1000;
  std::map<int64_t, std::vector<std::string>> running_;
  std::map<int64_t, ExitStatus> ended_;
};

}  // namespace botmodels::testing
