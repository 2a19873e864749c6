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
#include <zmq.hpp>

#include "common/clock.h"
#include "common/codec.h"
#include "common/model_config.h"
#include "models/model_backend.h"
#include "worker/job.h"

namespace botmodels {

// Runs jobs on the model on its own thread, so that the I/O thread keeps
// heartbeating during a long forward. With config.max_batch_size > 1 it joins
// waiting requests whose non-batch dims agree into one forward (dynamic
// batching, docs/performance.md), waiting up to config.max_queue_delay for a
// batch to fill; when a batched forward fails, its requests run one by one so
// that one bad input fails only its own request. Each result leaves as a
// ready-to-forward worker message ([reply][job header][reply body] or
// [state][state]) on a PAIR socket connected to `results_endpoint`, which the
// I/O thread must have bound before Start().
//
// Threading: Submit() and Stop() may be called from any thread; the backend,
// the waiting requests and the PAIR socket are touched only by the executor thread.
class Executor {
 public:
  // Sent as [kDeviceLost][reason] when the backend's Health() fails: the
  // executor then answers nothing more, and the worker must exit
  // (kExitDeviceLost); the broker settles the unanswered requests as for a crash.
  static constexpr std::string_view kDeviceLost = "device-lost";

  // Requests are decoded within `limits`; a reply over max_message_bytes is
  // replaced by an invalid_request error, as the broker would drop it.
  Executor(zmq::context_t& context, std::string results_endpoint, ModelConfig config,
           protocol::Limits limits, std::unique_ptr<ModelBackend> backend, const Clock& clock);
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
    std::string key;   // Batch::Key: requests with equal keys may share a forward
    int64_t rows = 1;  // dim 0 of its inputs when batching, else 1
    Clock::TimePoint arrived;
  };

  void Run(bool preload);
  // Loads the model if needed, reporting loading/ready/load_failed. Returns the load status.
  Status EnsureLoaded();
  // Decodes and checks a job: answers it at once when it is bad, else it waits.
  void Accept(Job job);
  // True when the oldest waiting request should run now, not wait for company.
  bool BatchReady() const;
  // The oldest waiting request and those that may share its forward.
  std::list<Waiting> TakeBatch();
  void RunBatch(std::list<Waiting>& batch);
  // After a batched forward failed: finds the offending request(s), as
  // each request runs alone and gets its own answer.
  void RunOneByOne(std::list<Waiting>& batch, const Status& failure);
  void RunAlone(Waiting& request);
  void SendOutputs(const Waiting& request, const protocol::TensorViews& outputs,
                   int64_t batch_rows);
  void SendError(const Job& job, std::optional<std::string> id, Status status);
  // `code`: "ok" or the reply's error code, carried in the job header.
  void SendReply(uint64_t ticket, std::string reply, const std::string& code, int64_t batch_rows);
  void SendState(const protocol::WorkerState& state);
  void SendDeviceLost(const Status& reason);

  // Constant after construction.
  zmq::context_t& context_;
  const std::string results_endpoint_;
  const ModelConfig config_;
  const protocol::Limits limits_;
  const Clock& clock_;

  // Executor thread only.
  std::unique_ptr<ModelBackend> backend_;
  std::optional<zmq::socket_t> results_;
  std::optional<Status> load_status_;
  std::list<Waiting> waiting_;  // oldest first

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;   // GUARDED_BY(mutex_): submitted, not yet accepted
  bool stopping_ = false;  // GUARDED_BY(mutex_)

  std::thread thread_;
};

}  // namespace botmodels
