#pragma once

#include <map>
#include <memory>

#include "broker/process_launcher.h"

namespace boost::process {
class child;
}

namespace botmodels {

// Starts worker processes with Boost.Process. Each child gets
// PR_SET_PDEATHSIG(SIGKILL), so no worker outlives a crashed broker, and a
// process group of its own, so terminal signals reach only the broker.
// Not thread-safe.
class BoostProcessLauncher final : public ProcessLauncher {
 public:
  BoostProcessLauncher();
  ~BoostProcessLauncher() override;  // kills children still running

  Result<int64_t> Start(const std::string& binary, const std::vector<std::string>& args,
                        const std::map<std::string, std::string>& env) override;
  std::optional<ExitStatus> Poll(int64_t pid) override;
  void Signal(int64_t pid, int signal) override;
  Result<std::string> Output(const std::string& binary,
                             const std::vector<std::string>& args) override;

 private:
  std::map<int64_t, std::unique_ptr<boost::process::child>> children_;
};

}  // namespace botmodels
