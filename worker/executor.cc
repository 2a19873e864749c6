#include "worker/executor.h"

#include <spdlog/spdlog.h>

#include <exception>
#include <new>

#include "common/log_format.h"
#include "worker/batch.h"

namespace botmodels {
namespace {

// What an exception that escaped the request path means for the request.
Status StatusOf(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::bad_alloc&) {
    return {ErrorCode::kOutOfMemory, "the worker ran out of memory while answering"};
  } catch (const std::exception& e) {
    return {ErrorCode::kInternal, std::string("the worker failed while answering: ") + e.what()};
  } catch (...) {
    return {ErrorCode::kInternal, "the worker failed while answering: unknown exception"};
  }
}

}  // namespace

Executor::Executor(ModelConfig config, protocol::Limits limits,
                   std::unique_ptr<ModelBackend> backend, const Clock& clock, ResultSink& sink)
    : config_(std::move(config)),
      limits_(limits),
      clock_(clock),
      sink_(sink),
      backend_(std::move(backend)),
      credit_(config_.max_inflight, config_.credit_adapts) {}

Clock::TimePoint Executor::NextDue() const {
  if (waiting_.empty() || device_lost_) return Clock::TimePoint::max();
  if (BatchReady()) return Clock::TimePoint::min();
  return waiting_.front().arrived + config_.max_queue_delay;
}

void Executor::RunNext() {
  if (NextDue() > clock_.Now()) return;
  std::list<Waiting> batch = TakeBatch();
  Guarded(batch, [&] { RunBatch(batch); });
  if (Status health = backend_->Health(); !health.ok()) {
    spdlog::critical("model {}: {}", config_.name, health.message());
    sink_.Deliver(DeviceLost{health.message()});
    device_lost_ = true;
    waiting_.clear();  // unanswered: the worker exits and the broker retries them
  }
}

template <typename Work>
void Executor::Guarded(std::list<Waiting>& at_hand, Work work) {
  try {
    work();
    return;
  } catch (...) {
    const Status status = StatusOf(std::current_exception());
    spdlog::error("model {}: {}", config_.name, status.ToString());
    for (Waiting& w : at_hand) {
      if (w.answered) continue;
      try {
        SendError(w, status);
      } catch (...) {  // even a small error reply did not fit: the broker's deadline answers it
        spdlog::error("request {} could not be answered", w.id.value_or("?"));
      }
    }
  }
}

Status Executor::Load() {
  if (load_status_) return *load_status_;
  SendState({protocol::ModelState::kLoading, "", 0});
  const auto start = clock_.Now();
  try {
    load_status_ = backend_->Load();
  } catch (const std::exception& e) {
    load_status_ = Status(ErrorCode::kModelLoadFailed, e.what());
  }
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

void Executor::Submit(Job job) {
  if (device_lost_) return;
  on_its_way_ = job.header.queued;
  std::list<Waiting> accepting;  // spliced into waiting_ once it passes every check
  Waiting& w = accepting.emplace_back();
  w.job = std::move(job);
  w.arrived = clock_.Now();
  Guarded(accepting, [&] {
    const std::string_view body = w.job.body.to_string_view();
    auto request = codec::DecodeRequestView(body, limits_);
    if (!request.ok()) {
      w.id = codec::PeekRequestId(body, limits_);
      return SendError(w, request.status());
    }
    w.request = std::move(*request);
    w.id = w.request.request.id;
    const protocol::Request& r = w.request.request;
    if (r.op != protocol::Op::kInfer || r.model != config_.name) {
      return SendError(w, InvalidRequest("this worker serves only infer on model " + config_.name));
    }
    if (Status s = config_.CheckInputs(w.request.inputs); !s.ok()) return SendError(w, s);
    if (config_.batching()) {
      auto rows = Batch::Rows(w.request.inputs);
      if (!rows.ok()) return SendError(w, rows.status());
      w.rows = *rows;
      w.key = Batch::Key(w.request.inputs);
    }
    waiting_.splice(waiting_.end(), accepting);
  });
}

bool Executor::BatchReady() const {
  if (!config_.batching() || config_.max_queue_delay.count() == 0 || on_its_way_ == 0) return true;
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
  for (Waiting& w : batch) {
    if (now >= w.job.deadline) {
      SendError(w, {ErrorCode::kDeadlineExceeded, "deadline passed before the model ran"});
    }
  }
  batch.remove_if([](const Waiting& w) { return w.answered; });
  if (batch.empty()) return;
  if (Status s = Load(); !s.ok()) {
    for (Waiting& w : batch) SendError(w, s);
    return;
  }
  const auto start = clock_.Now();
  Forward(batch);
  if (auto credit = credit_.OnForward(clock_.Now() - start, batch.size())) {
    spdlog::debug("model {}: credit {}", config_.name, *credit);
    sink_.Deliver(CreditChange{*credit});
  }
}

void Executor::Forward(std::list<Waiting>& batch) {
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
  for (Waiting& w : batch) SendOutputs(w, (*parts)[i++], joined.rows());
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
  const uint64_t ticket = w.job.header.ticket;
  const uint32_t link = w.job.link;
  const std::string& id = w.request.request.id;
  const PartialSink partial = [this, ticket, link, &id](const protocol::TensorViews& outputs) {
    sink_.Deliver(JobReply{ticket, codec::EncodeInferReply(id, outputs, /*more=*/true),
                           ErrorCode::kOk, 0, /*more=*/true, link});
  };
  RequestContext context;
  if (w.request.request.stream) context.partial = partial;
  context.deadline = w.job.deadline;
  auto outputs = backend_->InferRequest(w.request.inputs, context);
  if (!outputs.ok() && !backend_->Health().ok()) return;  // no reply: the worker exits
  if (!outputs.ok()) {
    LogFields fields{{"request", w.request.request.id}};
    spdlog::warn("request {} failed: {}", w.request.request.id, outputs.status().ToString());
    return SendError(w, outputs.status());
  }
  SendOutputs(w, outputs->views, w.rows);
}

void Executor::SendOutputs(Waiting& w, const protocol::TensorViews& outputs, int64_t batch_rows) {
  std::string encoded = codec::EncodeInferReply(w.request.request.id, outputs);
  if (encoded.size() > static_cast<uint64_t>(limits_.max_message_bytes)) {
    return SendError(
        w, InvalidRequest("the outputs take " + std::to_string(encoded.size()) +
                          " bytes, over the limit max_message_bytes = " +
                          std::to_string(limits_.max_message_bytes) + ": send a smaller input"));
  }
  SendReply(w, std::move(encoded), ErrorCode::kOk, batch_rows);
}

void Executor::SendError(Waiting& w, Status status) {
  const ErrorCode code = status.code();
  SendReply(w, codec::EncodeReply(protocol::ErrorReply(w.id, std::move(status))), code, 0);
}

void Executor::SendReply(Waiting& w, std::string body, ErrorCode code, int64_t batch_rows) {
  sink_.Deliver(JobReply{w.job.header.ticket, std::move(body), code,
                         static_cast<uint32_t>(batch_rows), /*more=*/false, w.job.link});
  w.answered = true;
}

void Executor::SendState(const protocol::WorkerState& state) { sink_.Deliver(StateChange{state}); }

}  // namespace botmodels
