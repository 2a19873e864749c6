#pragma once

#include <string>

namespace botmodels {

// Sets the default logger's format for this process: "text" (one readable
// line per event) or "json" (one JSON object per line, for log shippers:
// {"ts", "level", "process", "pid", "msg"}). `process` names the sender,
// e.g. "broker" or "worker mlp-0". Returns false for an unknown format.
bool SetLogFormat(const std::string& format, const std::string& process);

}  // namespace botmodels
