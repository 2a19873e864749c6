#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <zmq.hpp>

#include "common/clock.h"
#include "common/model_config.h"
#include "models/model_backend.h"
#include "worker/job.h"

namespace botmodels {

// Runs jobs on the model, one at a time, on its own thread, so that the I/O
// thread keeps heartbeating during a long forward. Each result leaves as a
// ready-to-forward worker message ([reply][job header][reply body] or
// [state][state]) on a PAIR socket connected to `results_endpoint`, which the
// I/O thread must have bound before Start().
//
// Threading: Submit() and Stop() may be called from any thread; the backend
// and the PAIR socket are touched only by the executor thread.
class Executor {
 public:
  // Requests are decoded within `limits`; a reply over max_message_bytes is
  // replaced by an invalid_request error, as the broker would drop it.
  Executor(zmq::context_t& context, std::string results_endpoint, ModelConfig config,
           protocol::Limits limits, std::unique_ptr<ModelBackend> backend, const Clock& clock);
  ~Executor();  // Stop()

  // Starts the thread; with `preload` it loads the model before the first job.
  void Start(bool preload);

  // Queues a job; it is answered exactly once (also when the model fails to load).
  void Submit(Job job);

  // Lets the running job finish, drops the queued ones (the broker retries
  // them elsewhere when this worker goes away), and joins the thread.
  void Stop();

 private:
  void Run(bool preload);
  // Loads the model if needed, reporting loading/ready/load_failed. Returns the load status.
  Status EnsureLoaded();
  void Process(const Job& job);
  // `code`: "ok" or the reply's error code, carried in the job header.
  void SendReply(uint64_t ticket, const std::string& reply, const std::string& code);
  void SendState(const protocol::WorkerState& state);

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

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;   // GUARDED_BY(mutex_)
  bool stopping_ = false;  // GUARDED_BY(mutex_)

  std::thread thread_;
};

}  // namespace botmodels
