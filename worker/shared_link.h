#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <vector>

#include "common/clock.h"
#include "models/model_backend.h"
#include "worker/broker_link.h"
#include "worker/job.h"
#include "worker/result.h"

namespace botmodels {

// The worker's broker links (one per broker it serves: docs/operations.md,
// "Failover"), shared by its two threads (docs/architecture.md, "Threads").
// A job remembers its link, and its replies go back through it; state
// changes and memory reports go to every broker. The serving thread receives jobs, runs them on the
// model and sends their results itself, so that a request crosses no thread inside the worker. The
// pulse thread (Pulse) calls Pulse() now and then, to keep heartbeats and memory reports flowing
// while the serving thread is in the model, however long a forward or a load takes.
//
// Every use of the socket holds one mutex (ZeroMQ allows a socket to change
// threads across a full memory barrier). The serving thread holds it while
// it waits for messages, so Pulse() acts only while the serving thread is
// away from the socket, and it costs the serving thread nothing otherwise.
class SharedLink final : public ResultSink {
 public:
  // `links` (connected, at least one), `backend` (read for memory reports)
  // and `clock` must outlive this object.
  SharedLink(std::vector<BrokerLink*> links, const ModelBackend& backend, const Clock& clock);

  // Serving thread: the jobs that have arrived, waiting up to `wait` (less
  // when a heartbeat falls due) for the first; empty when none came or a
  // signal ended the wait.
  std::vector<Job> Receive(std::chrono::milliseconds wait);

  // Serving thread (the executor's sink): sends the result now. A state
  // change to load_failed, or a lost device, sets exit_code().
  void Deliver(WorkerResult result) override;

  // Pulse thread: while the serving thread is away from the socket, sends
  // what is due (heartbeat, memory report), reconnects a silent broker, and
  // keeps the jobs that arrived for Receive().
  void Pulse();

  // Serving thread: why this process must stop serving (kExitLoadFailed,
  // kExitDeviceLost), once a result has said so.
  std::optional<int> exit_code() const { return exit_code_; }

 private:
  // Holding mutex_: heartbeats, reconnects and memory reports. Returns the
  // time until the next heartbeat is due.
  std::chrono::milliseconds Housekeeping();
  // Holding mutex_: every message waiting on the sockets; the jobs go to `jobs`.
  void Drain(std::vector<Job>& jobs);

  const std::vector<BrokerLink*> links_;
  std::vector<zmq::pollitem_t> poll_items_;  // one per link, reused
  const ModelBackend& backend_;
  const Clock& clock_;

  std::mutex mutex_;                 // guards link_ and what follows
  std::vector<Job> received_;        // jobs the pulse thread read
  Clock::TimePoint next_report_{};   // the next memory report
  std::atomic<bool> loaded_{false};  // the model is loaded: its device memory may be read
  std::optional<int> exit_code_;     // serving thread only
};

}  // namespace botmodels
