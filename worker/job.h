#pragma once

#include <string>

#include "common/clock.h"
#include "common/protocol.h"

namespace botmodels {

// A request handed to the worker by the broker.
struct Job {
  protocol::JobHeader header;
  std::string body;                                     // the client's request frame, as sent
  Clock::TimePoint deadline = Clock::TimePoint::max();  // from header.budget_ms
};

}  // namespace botmodels
