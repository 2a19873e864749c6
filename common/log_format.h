#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace botmodels {

// Sets the default logger's format for this process: "text" (one readable
// line per event) or "json" (one JSON object per line, for log shippers:
// {"ts", "level", "process", "pid", "msg"} and the event's fields, below).
// `process` names the sender, e.g. "broker" or "worker mlp-0"; `fields` go
// into every JSON event (a worker's "worker" and "model"). Returns false for
// an unknown format.
bool SetLogFormat(const std::string& format, const std::string& process,
                  std::vector<std::pair<std::string, std::string>> fields = {});

// Fields ("worker", "model", "request") added to the JSON form of every event
// logged on this thread while the object lives, so that log shippers can
// filter on them; the text form says them in the message already. Scopes
// nest; an inner field of the same name wins.
class LogFields {
 public:
  LogFields(std::initializer_list<std::pair<std::string_view, std::string_view>> fields);
  ~LogFields();
  LogFields(const LogFields&) = delete;
  LogFields& operator=(const LogFields&) = delete;

 private:
  size_t mark_;  // the thread's field count before this scope
};

}  // namespace botmodels
