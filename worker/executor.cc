#include "worker/executor.h"

#include <spdlog/spdlog.h>

#include "common/log_format.h"
#include "common/zmq_frame.h"
#include "worker/batch.h"

namespace botmodels {

namespace wm = protocol::worker_msg;

Executor::Executor(zmq::context_t& context, std::string results_endpoint, ModelConfig config,
                   protocol::Limits limits, std::unique_ptr<ModelBackend> backend,
                   const Clock& clock)
    : context_(context),
      results_endpoint_(std::move(results_endpoint)),
      config_(std::move(config)),
      limits_(limits),
      clock_(clock),
      backend_(std::move(backend)) {}

Executor::~Executor() { Stop(); }

void Executor::Start(bool preload) {
  thread_ = std::thread([this, preload] { Run(preload); });
}

void Executor::Submit(Job job) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void Executor::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Executor::Run(bool preload) {
  results_.emplace(context_, zmq::socket_type::pair);
  results_->connect(results_endpoint_);
  if (preload) EnsureLoaded();
  while (true) {
    std::deque<Job> arrived;
    {
      std::unique_lock lock(mutex_);
      const auto news = [this] { return stopping_ || !jobs_.empty(); };
      if (waiting_.empty()) {
        wake_.wait(lock, news);
      } else if (!BatchReady()) {
        wake_.wait_for(lock, waiting_.front().arrived + config_.max_queue_delay - clock_.Now(),
                       news);
      }
      if (stopping_) break;
      arrived.swap(jobs_);
    }
    for (Job& job : arrived) Accept(std::move(job));
    if (waiting_.empty()) continue;
    if (BatchReady() || clock_.Now() >= waiting_.front().arrived + config_.max_queue_delay) {
      std::list<Waiting> batch = TakeBatch();
      RunBatch(batch);
    }
    if (Status health = backend_->Health(); !health.ok()) {
      SendDeviceLost(health);
      break;
    }
  }
  results_->close();
}

Status Executor::EnsureLoaded() {
  if (load_status_) return *load_status_;
  SendState({protocol::ModelState::kLoading, "", 0});
  const auto start = clock_.Now();
  load_status_ = backend_->Load();
  const auto load_ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now() - start);
  if (load_status_->ok()) {
    spdlog::info("model {} loaded and warmed up in {} ms", config_.name, load_ms.count());
    SendState({protocol::ModelState::kReady, "", static_cast<uint64_t>(load_ms.count())});
  } else {
    spdlog::error("model {} failed to load: {}", config_.name, load_status_->message());
    SendState({protocol::ModelState::kFailed, load_status_->message(), 0});
  }
  return *load_status_;
}

void Executor::Accept(Job job) {
  Waiting& w = waiting_.emplace_back();
  w.job = std::move(job);
  w.arrived = clock_.Now();
  const std::string_view body = w.job.body.to_string_view();
  auto request = codec::DecodeRequestView(body, limits_);
  auto refuse = [&](Status status) {
    SendError(
        w.job,
        request.ok() ? std::optional(request->request.id) : codec::PeekRequestId(body, limits_),
        std::move(status));
    waiting_.pop_back();
  };
  if (!request.ok()) return refuse(request.status());
  if (request->request.op != protocol::Op::kInfer || request->request.model != config_.name) {
    return refuse(InvalidRequest("this worker serves only infer on model " + config_.name));
  }
  if (Status s = config_.CheckInputs(request->inputs); !s.ok()) return refuse(s);
  if (config_.batching()) {
    auto rows = Batch::Rows(request->inputs);
    if (!rows.ok()) return refuse(rows.status());
    w.rows = *rows;
    w.key = Batch::Key(request->inputs);
  }
  w.request = std::move(*request);
}

bool Executor::BatchReady() const {
  if (!config_.batching() || config_.max_queue_delay.count() == 0) return true;
  const std::string& key = waiting_.front().key;
  int64_t rows = 0;
  for (const Waiting& w : waiting_) {
    if (w.key == key) rows += w.rows;
    if (rows >= config_.max_batch_size) return true;
  }
  return false;
}

std::list<Executor::Waiting> Executor::TakeBatch() {
  std::list<Waiting> batch;
  batch.splice(batch.end(), waiting_, waiting_.begin());
  if (!config_.batching()) return batch;
  int64_t rows = batch.front().rows;
  for (auto it = waiting_.begin(); it != waiting_.end() && rows < config_.max_batch_size;) {
    auto next = std::next(it);
    if (it->key == batch.front().key && rows + it->rows <= config_.max_batch_size) {
      rows += it->rows;
      batch.splice(batch.end(), waiting_, it);  // nodes move between lists, never in memory
    }
    it = next;
  }
  return batch;
}

void Executor::RunBatch(std::list<Waiting>& batch) {
  const auto now = clock_.Now();
  batch.remove_if([&](const Waiting& w) {
    if (now < w.job.deadline) return false;
    SendError(w.job, w.request.request.id,
              {ErrorCode::kDeadlineExceeded, "deadline passed before the model ran"});
    return true;
  });
  if (batch.empty()) return;
  if (Status s = EnsureLoaded(); !s.ok()) {
    for (const Waiting& w : batch) SendError(w.job, w.request.request.id, s);
    return;
  }
  if (batch.size() == 1) return RunAlone(batch.front());
  std::vector<const protocol::TensorViews*> inputs;
  for (const Waiting& w : batch) inputs.push_back(&w.request.inputs);
  const Batch joined(inputs);
  auto outputs = backend_->Infer(joined.inputs());
  if (!outputs.ok() && !backend_->Health().ok()) return;  // no reply: the worker exits
  if (!outputs.ok()) return RunOneByOne(batch, outputs.status());
  auto parts = joined.Split(outputs->views);
  if (!parts.ok()) return RunOneByOne(batch, parts.status());
  size_t i = 0;
  for (const Waiting& w : batch) SendOutputs(w, (*parts)[i++], joined.rows());
}

void Executor::RunOneByOne(std::list<Waiting>& batch, const Status& failure) {
  spdlog::warn("a batch of {} requests failed ({}): running them one by one", batch.size(),
               failure.ToString());
  for (Waiting& w : batch) {
    RunAlone(w);
    if (!backend_->Health().ok()) return;
  }
}

void Executor::RunAlone(Waiting& w) {
  auto outputs = backend_->Infer(w.request.inputs);
  if (!outputs.ok() && !backend_->Health().ok()) return;  // no reply: the worker exits
  if (!outputs.ok()) {
    LogFields fields{{"request", w.request.request.id}};
    spdlog::warn("request {} failed: {}", w.request.request.id, outputs.status().ToString());
    return SendError(w.job, w.request.request.id, outputs.status());
  }
  SendOutputs(w, outputs->views, w.rows);
}

void Executor::SendOutputs(const Waiting& w, const protocol::TensorViews& outputs,
                           int64_t batch_rows) {
  std::string encoded = codec::EncodeInferReply(w.request.request.id, outputs);
  if (encoded.size() > static_cast<uint64_t>(limits_.max_message_bytes)) {
    return SendError(
        w.job, w.request.request.id,
        InvalidRequest("the outputs take " + std::to_string(encoded.size()) +
                       " bytes, over the limit max_message_bytes = " +
                       std::to_string(limits_.max_message_bytes) + ": send a smaller input"));
  }
  SendReply(w.job.header.ticket, std::move(encoded), "ok", batch_rows);
}

void Executor::SendError(const Job& job, std::optional<std::string> id, Status status) {
  const std::string code(ErrorCodeName(status.code()));
  SendReply(job.header.ticket, codec::EncodeReply(protocol::ErrorReply(id, std::move(status))),
            code, 0);
}

void Executor::SendReply(uint64_t ticket, std::string reply, const std::string& code,
                         int64_t batch_rows) {
  const std::string header =
      codec::EncodeJobHeader({ticket, 0, code, static_cast<uint32_t>(batch_rows)});
  results_->send(zmq::buffer(wm::kReply), zmq::send_flags::sndmore);
  results_->send(zmq::buffer(header), zmq::send_flags::sndmore);
  results_->send(FrameOf(std::move(reply)), zmq::send_flags::none);
}

void Executor::SendDeviceLost(const Status& reason) {
  results_->send(zmq::buffer(kDeviceLost), zmq::send_flags::sndmore);
  results_->send(zmq::buffer(reason.message()), zmq::send_flags::none);
}

void Executor::SendState(const protocol::WorkerState& state) {
  const std::string encoded = codec::EncodeWorkerState(state);
  results_->send(zmq::buffer(wm::kState), zmq::send_flags::sndmore);
  results_->send(zmq::buffer(encoded), zmq::send_flags::none);
}

}  // namespace botmodels
