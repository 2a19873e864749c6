#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>
#include <zmq.hpp>

#include "broker/worker_registry.h"
#include "common/clock.h"
#include "common/status.h"
#include "models/registry/model_config.h"

namespace botmodels {

// What the broker knows of a served model's limits (its model.toml's).
struct ModelPolicy {
  std::string name;
  uint32_t queue_size = ModelConfig::kDefaultQueueSize;  // waiting for a worker; more → overloaded
  std::chrono::milliseconds timeout = ModelConfig::kDefaultTimeout;  // 0 = none
};
ModelPolicy PolicyOf(const ModelConfig& model);

// An accepted request, from Submit() until its one reply.
struct PendingRequest {
  std::string client;  // routing id on the frontend
  std::string id;      // the client's request id
  std::string model;
  zmq::message_t body;  // the request frame as the client sent it: forwarded, never copied
  std::optional<std::chrono::milliseconds> timeout;  // the client's, if any
  // Set by the router.
  uint64_t ticket = 0;
  Clock::TimePoint deadline = Clock::TimePoint::max();  // max(): none
  int crashes = 0;                                      // workers that died running it
  std::string worker;           // in flight on this worker; empty while queued
  Clock::TimePoint accepted;    // Submit()
  Clock::TimePoint dispatched;  // last sent to a worker; epoch while never sent
  uint32_t batch_rows = 0;      // rows of the forward that answered it; 0: none ran
  uint32_t partials = 0;        // partial replies forwarded to the client (streamed requests)
};

// Told of every answered request, for metrics.
class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  // `code`: "ok" or the error code's wire name.
  virtual void OnAnswered(const PendingRequest& request, std::string_view code,
                          Clock::TimePoint now) = 0;
};

// What became of a reply sent to a client.
enum class Delivery {
  kSent,  // queued for the client
  kFull,  // the client has not read the replies already queued for it: try later
  kGone,  // the client is disconnected: drop it
};

// Where the router's messages go: sockets in the broker, a recorder in tests.
class Outbox {
 public:
  virtual ~Outbox() = default;
  // Sends `request` to `worker` beside `job` (its ticket, the time left and
  // how many more follow it to that worker). The body stays with the request
  // (a retry sends it again): share, don't move it.
  virtual void SendToWorker(WorkerRecord& worker, PendingRequest& request,
                            const protocol::JobHeader& job) = 0;
  // Sends one encoded reply frame to a client, without blocking
  // (docs/protocol.md, "Streamed replies"). On kFull the message is left in
  // `reply`, for a later try.
  virtual Delivery SendToClient(const std::string& client, zmq::message_t& reply) = 0;
};

// Why a worker went away.
enum class Departure {
  kDied,        // exited, was killed or fell silent: its requests may be retried
  kLoadFailed,  // its model cannot be loaded: its requests get model_load_failed
};

// Routes requests to workers and guarantees that every accepted request gets
// exactly one reply: a worker's, or an error (overloaded, deadline_exceeded,
// worker_crashed, model_load_failed). Requests queue per model (bounded) and
// go to the worker WorkerRegistry::Pick chooses: the fewest in flight, without
// running more CPU workers of a model at once than the cores. A request whose
// worker dies is retried once on a sibling; one that kills two workers is not
// retried again, nor is one whose partial replies have begun to flow.
//
// Single-threaded (the broker's event loop); not thread-safe.
class Router {
 public:
  // How often a refused final reply is tried again, and for how long: a
  // client that reads nothing for a minute is taken for gone.
  static constexpr std::chrono::milliseconds kRetryUnsentEvery{10};
  static constexpr std::chrono::seconds kGiveUpUnsentAfter{60};

  // `observer` (may be null) hears of every answer. `cpu_cores`: the cores
  // the CPU workers share (WorkerRegistry::Pick); 0: no limit.
  Router(const Clock& clock, Outbox& outbox, const std::vector<ModelPolicy>& models,
         RequestObserver* observer = nullptr, uint32_t cpu_cores = 0);

  bool Serves(const std::string& model) const { return models_.contains(model); }
  // Serves a new model, or changes a served one's queue size and timeout
  // (for requests accepted from now on).
  void SetPolicy(const ModelPolicy& policy);

  // Accepts `request` (answering errors through the outbox at once) and
  // dispatches what can run.
  void Submit(PendingRequest request);

  // A worker registered (or registered again): work can flow to it.
  void OnRegister(WorkerRecord record);
  // A worker reported its model state.
  void OnState(WorkerRecord& worker, const protocol::WorkerState& state);
  // A worker changed its capacity: more requests flow to it at once, or, below
  // what it holds, none until it is under the new capacity (none is taken back).
  void OnCredit(WorkerRecord& worker, const protocol::WorkerCredit& credit);
  // A worker answered job.ticket: forwards `reply` to the client, if still
  // waiting. job.code and job.batch are as the worker reported them. A
  // partial reply (job.more) is forwarded at once and the request stays in
  // flight; one the client's queue cannot take ends the stream with
  // `overloaded` (sent once the client reads again), so that a client that
  // stops reading holds the broker to a bounded queue, not the whole stream.
  void OnReply(WorkerRecord& worker, const protocol::JobHeader& job, zmq::message_t reply);
  // A worker is gone: settles its in-flight requests (retry or error).
  void OnWorkerGone(const std::string& worker_id, Departure why);

  // Sends no more requests to this worker; its in-flight ones finish. False
  // when it is not registered.
  bool Drain(const std::string& worker_id);
  // Undoes Drain(): the worker takes requests again.
  void Resume(const std::string& worker_id);

  // An unloaded model's queued and new requests are answered `unavailable`
  // until it is loaded again (the operator's `unload` and `load`).
  void SetLoaded(const std::string& model, bool loaded);
  bool Loaded(const std::string& model) const { return !models_.at(model).unloaded; }
  // Answers `model`'s queued requests with `status` (residency.h: a model
  // that cannot fit on its device); those running are not touched.
  void Refuse(const std::string& model, const Status& status);
  // Draining workers with nothing left in flight.
  std::vector<std::string> Drained() const;

  // Answers requests whose deadline has passed, and tries again the final
  // replies a client's full queue refused; returns the time until the next
  // deadline or try (capped at `cap`).
  Clock::duration RunTimers(Clock::duration cap);

  // Workers still running a request `grace` or longer after its deadline
  // passed (it was answered deadline_exceeded then): they are hung.
  std::vector<std::string> HungWorkers(Clock::duration grace) const;

  // Answers every pending request with `status` (the broker is stopping).
  void AnswerAll(const Status& status);

  WorkerRegistry& workers() { return workers_; }
  const WorkerRegistry& workers() const { return workers_; }
  uint32_t Queued(const std::string& model) const;
  const std::string& LoadError(const std::string& model) const;
  const ModelPolicy& Policy(const std::string& model) const;
  size_t pending() const { return requests_.size(); }

 private:
  struct ModelQueue {
    ModelPolicy policy;
    std::deque<uint64_t> tickets;  // may hold answered tickets, skipped lazily
    uint32_t live = 0;             // tickets still waiting
    std::string load_error;        // the last load failure, until a worker loads it
    bool unloaded = false;         // by an operator: requests are refused
  };

  // Sends the model's queued requests to workers while they can take them.
  void Dispatch(const std::string& model);
  uint32_t BudgetMs(const PendingRequest& request) const;
  void OnPartial(WorkerRecord& worker, uint64_t ticket, zmq::message_t reply);
  // Sends a final reply; one the client's full queue refuses waits in
  // unsent_ and is tried again, so that every request gets its final reply.
  void SendFinal(const std::string& client, zmq::message_t reply);
  void RetryUnsent();
  void Enqueue(PendingRequest& request, bool front);
  // Sends `status` to the request's client and forgets the request.
  void Answer(uint64_t ticket, Status status);
  // Answers every queued request of `model` with `status`.
  void FlushQueue(ModelQueue& queue, const Status& status);

  const Clock& clock_;
  Outbox& outbox_;
  RequestObserver* const observer_;
  const uint32_t cpu_cores_;
  WorkerRegistry workers_;
  std::map<std::string, ModelQueue> models_;
  std::unordered_map<uint64_t, PendingRequest> requests_;  // every unanswered request
  // Answered requests that a worker is still running: ticket → (worker, when
  // its deadline passed). Cleared by the worker's late reply or its death.
  std::unordered_map<uint64_t, std::pair<std::string, Clock::TimePoint>> overdue_;
  using Deadline = std::pair<Clock::TimePoint, uint64_t>;
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines_;
  uint64_t next_ticket_ = 1;
  // Final replies a client's full queue refused, oldest first.
  struct Unsent {
    std::string client;
    zmq::message_t reply;
    Clock::TimePoint give_up;
  };
  std::deque<Unsent> unsent_;
  // Dispatch()'s assignments, sent once all are made; kept to reuse its memory.
  std::vector<std::pair<WorkerRecord*, PendingRequest*>> round_;
};

}  // namespace botmodels
