#pragma once

#include <zmq.hpp>

#include "common/clock.h"
#include "common/protocol.h"

namespace botmodels {

// A request handed to the worker by the broker.
struct Job {
  protocol::JobHeader header;
  zmq::message_t body;                                  // the client's request frame, as sent
  Clock::TimePoint deadline = Clock::TimePoint::max();  // from header.budget_ms
  uint32_t link = 0;  // which of the worker's brokers sent it (SharedLink's index)
};

}  // namespace botmodels
