#include "broker/process_launcher.h"

#include <string.h>

namespace botmodels {

std::string ExitStatus::ToString() const {
  if (signal == 0) return "exit code " + std::to_string(code);
  const char* abbrev = sigabbrev_np(signal);
  return "killed by signal " + std::to_string(signal) +
         (abbrev ? " (SIG" + std::string(abbrev) + ")" : "");
}

std::string ExitStatus::Reason() const {
  if (signal == 0) return "exit_" + std::to_string(code);
  const char* abbrev = sigabbrev_np(signal);
  return abbrev ? "SIG" + std::string(abbrev) : "signal_" + std::to_string(signal);
}

}  // namespace botmodels
