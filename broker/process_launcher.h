#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace botmodels {

// How a process ended.
struct ExitStatus {
  int code = 0;    // exit code, when signal == 0
  int signal = 0;  // the signal that killed it, or 0

  // "exit code 78" or "killed by signal 9 (SIGKILL)".
  std::string ToString() const;
  // A short label for metrics: "exit_78" or "SIGKILL".
  std::string Reason() const;
};

// Starts and watches child processes, behind an interface so the supervisor's
// restart logic is tested without real processes.
class ProcessLauncher {
 public:
  virtual ~ProcessLauncher() = default;
  // Starts `binary` with `args` and this process's environment plus `env`
  // (where secrets go: never on a command line); returns its pid. The child
  // dies with the launcher's process.
  virtual Result<int64_t> Start(const std::string& binary, const std::vector<std::string>& args,
                                const std::map<std::string, std::string>& env) = 0;
  // nullopt while `pid` runs; its exit status once it has ended (reaped).
  virtual std::optional<ExitStatus> Poll(int64_t pid) = 0;
  // Sends `signal` to `pid` if it still runs.
  virtual void Signal(int64_t pid, int signal) = 0;
  // Runs `binary` with `args` to its end and returns what it printed on
  // stdout; an error when it cannot start or exits non-zero. Blocks.
  virtual Result<std::string> Output(const std::string& binary,
                                     const std::vector<std::string>& args) = 0;
};

}  // namespace botmodels
