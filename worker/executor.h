#pragma once

#include <condition_variable>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "common/clock.h"
#include "common/codec.h"
#include "common/model_config.h"
#include "models/model_backend.h"
#include "worker/job.h"
#include "worker/result.h"

namespace botmodels {

// Runs jobs on the model on its own thread, so that the I/O thread keeps
// heartbeating during a long forward. With config.max_batch_size > 1 it joins
// waiting requests whose non-batch dims agree into one forward (dynamic
// batching, docs/performance.md), waiting up to config.max_queue_delay for a
// batch to fill; when a batched forward fails, its requests run one by one so
// that one bad input fails only its own request. Every result goes to `sink`
// typed (worker/result.h): the executor knows nothing of frames.
//
// Errors are values: a bad request, a failed forward, and any exception
// thrown while a request is at hand (std::bad_alloc while packing a reply, a
// msgpack or libtorch error) become that request's error reply
// (out_of_memory for bad_alloc, internal otherwise), and the executor serves
// on. Only a failing Health() stops it: it then delivers DeviceLost and
// answers nothing more.
//
// Threading: Submit() and Stop() may be called from any thread; the backend
// and the waiting requests are touched only by the executor thread.
class Executor {
 public:
  // Requests are decoded within `limits`; a reply over max_message_bytes is
  // replaced by an invalid_request error, as the broker would drop it.
  // `sink` and `clock` must outlive the executor.
  Executor(ModelConfig config, protocol::Limits limits, std::unique_ptr<ModelBackend> backend,
           const Clock& clock, ResultSink& sink);
  ~Executor();  // Stop()

  // Starts the thread; with `preload` it loads the model before the first job.
  void Start(bool preload);

  // Queues a job; it is answered exactly once (also when the model fails to load).
  void Submit(Job job);

  // Lets the running forward finish, drops the waiting jobs (the broker
  // retries them elsewhere when this worker goes away), and joins the thread.
  void Stop();

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

  void Run(bool preload);
  // Loads the model if needed, reporting loading/ready/load_failed. Returns
  // the load status; a Load() that throws is a failed load.
  Status EnsureLoaded();
  // Decodes and checks a job: answers it at once when it is bad, else it waits.
  void Accept(Job job);
  // The error boundary: runs `work` on the requests `at_hand`; if it throws,
  // each of them not yet answered gets the exception as its error reply.
  template <typename Work>
  void Guarded(std::list<Waiting>& at_hand, Work work);
  // True when the oldest waiting request should run now, not wait for company.
  bool BatchReady() const;
  // The oldest waiting request and those that may share its forward.
  std::list<Waiting> TakeBatch();
  void RunBatch(std::list<Waiting>& batch);
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

  // Executor thread only.
  std::unique_ptr<ModelBackend> backend_;
  std::optional<Status> load_status_;
  std::list<Waiting> waiting_;  // oldest first

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;   // GUARDED_BY(mutex_): submitted, not yet accepted
  bool stopping_ = false;  // GUARDED_BY(mutex_)

  std::thread thread_;
};

}  // namespace botmodels
