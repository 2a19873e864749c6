#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "common/protocol.h"
#include "common/status.h"

namespace botmodels {

// What the executor produces, typed; BrokerLink turns each into frames
// (docs/protocol.md, "Broker and workers"), and the worker loop decides
// what a state change or a lost device means for the process.

// One answer to one request: its client reply frame, packed by the executor
// straight from the outputs. A request gets exactly one final reply (more = false), after the
// partial replies (more = true) of a streamed request, in order.
struct JobReply {
  uint64_t ticket = 0;              // the broker's handle of the request
  std::string body;                 // the encoded protocol::Reply
  ErrorCode code = ErrorCode::kOk;  // the reply's, for the broker's metrics
  uint32_t batch_rows = 0;          // rows in the forward that answered it; 0: none ran
  bool more = false;                // a partial reply: the final one follows
  uint32_t link = 0;                // the broker to answer: its job's (Job::link)
};

// The model's state changed (loading, ready, load_failed).
struct StateChange {
  protocol::WorkerState state;
};

// The worker's credit changed (CreditPolicy): its new capacity.
struct CreditChange {
  uint32_t capacity = 0;
};

// The backend can never serve again in this process (a CUDA fault): the
// executor answers nothing more and the worker must exit.
struct DeviceLost {
  std::string reason;
};

using WorkerResult = std::variant<JobReply, StateChange, CreditChange, DeviceLost>;

// Where the executor delivers its results, from its own thread.
class ResultSink {
 public:
  virtual ~ResultSink() = default;
  // Thread-safe; never blocks for long; never throws.
  virtual void Deliver(WorkerResult result) = 0;
};

}  // namespace botmodels
