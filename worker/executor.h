#pragma once

#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/codec.h"
#include "models/model_backend.h"
#include "models/registry/model_config.h"
#include "worker/credit_policy.h"
#include "worker/job.h"
#include "worker/result.h"

namespace botmodels {

// Runs jobs on the model, on the thread that calls it: the worker's serving
// thread, which also receives and answers, so that a request crosses no
// thread on its way through the worker (the Pulse keeps the heartbeats
// flowing while a forward runs). With config.max_batch_size > 1 it joins
// waiting requests whose non-batch dims agree into one forward (dynamic
// batching, docs/performance.md). A partial batch waits for company up to
// config.max_queue_delay only while the broker says more requests are on
// their way to this worker (JobHeader::queued): nobody is waited for. When a
// batched forward fails, its requests run one by one so that one bad input
// fails only its own request. Each forward's time feeds the worker's credit
// (CreditPolicy). Every result, and every change of the credit, goes to
// `sink` typed (worker/result.h): the executor knows nothing of frames.
//
// Errors are values: a bad request, a failed forward, and any exception
// thrown while a request is at hand (std::bad_alloc while packing a reply, a
// msgpack or libtorch error) become that request's error reply
// (out_of_memory for bad_alloc, internal otherwise), and the executor serves
// on. Only a failing Health() stops it: it then delivers DeviceLost and
// answers nothing more.
//
// Threading: one thread at a time; the caller drives it (Submit, NextDue,
// RunNext). Jobs still waiting when it is destroyed are dropped unanswered:
// the broker retries them elsewhere when this worker goes away.
class Executor {
 public:
  // Requests are decoded within `limits`; a reply over max_message_bytes is
  // replaced by an invalid_request error, as the broker would drop it.
  // `sink` and `clock` must outlive the executor.
  Executor(ModelConfig config, protocol::Limits limits, std::unique_ptr<ModelBackend> backend,
           const Clock& clock, ResultSink& sink);

  // Loads the model if it is not loaded, reporting loading, then ready or
  // load_failed. Returns the load status; a Load() that throws is a failed load.
  Status Load();

  // Takes a job: a bad one is answered at once, a good one waits for
  // RunNext(). Every job is answered exactly once (also when the model fails
  // to load), unless the device is lost first.
  void Submit(Job job);

  // When RunNext() has work: now or earlier while a batch is ready, the
  // oldest request's arrival + max_queue_delay while it waits for company,
  // TimePoint::max() when nothing waits or the device is lost.
  Clock::TimePoint NextDue() const;

  // Runs the oldest waiting request, with those that batch with it, if due.
  // After a forward, checks the device: a lost one delivers DeviceLost, and
  // the executor answers nothing more.
  void RunNext();

 private:
  // A job decoded in place: `request` views into job.body, so a Waiting
  // never moves (it lives in a std::list).
  struct Waiting {
    Job job;
    codec::RequestView request;
    std::optional<std::string> id;  // the request's id, once read: echoed in errors
    std::string key;                // Batch::Key: requests with equal keys may share a forward
    int64_t rows = 1;               // dim 0 of its inputs when batching, else 1
    Clock::TimePoint arrived;
    bool answered = false;  // its final reply has been delivered
  };

  // The error boundary: runs `work` on the requests `at_hand`; if it throws,
  // each of them not yet answered gets the exception as its error reply.
  template <typename Work>
  void Guarded(std::list<Waiting>& at_hand, Work work);
  // True when the oldest waiting request should run now, not wait for company:
  // its batch is full, or no more requests are on their way.
  bool BatchReady() const;
  // The oldest waiting request and those that may share its forward.
  std::list<Waiting> TakeBatch();
  // Drops the requests already late, loads the model, runs the rest.
  void RunBatch(std::list<Waiting>& batch);
  // Runs a batch of live requests on the loaded model and answers them.
  void Forward(std::list<Waiting>& batch);
  // After a batched forward failed: finds the offending request(s), as
  // each request runs alone and gets its own answer.
  void RunOneByOne(std::list<Waiting>& batch, const Status& failure);
  void RunAlone(Waiting& request);
  void SendOutputs(Waiting& request, const protocol::TensorViews& outputs, int64_t batch_rows);
  void SendError(Waiting& request, Status status);
  void SendReply(Waiting& request, std::string body, ErrorCode code, int64_t batch_rows);
  void SendState(const protocol::WorkerState& state);

  // Constant after construction.
  const ModelConfig config_;
  const protocol::Limits limits_;
  const Clock& clock_;
  ResultSink& sink_;

  std::unique_ptr<ModelBackend> backend_;
  CreditPolicy credit_;
  std::optional<Status> load_status_;
  std::list<Waiting> waiting_;  // oldest first
  uint32_t on_its_way_ = 0;     // JobHeader::queued of the latest job
  bool device_lost_ = false;    // DeviceLost delivered: answer nothing more
};

}  // namespace botmodels
