#include "worker/executor.h"

#include <spdlog/spdlog.h>

#include "common/codec.h"

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
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) break;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    Process(job);
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

void Executor::Process(const Job& job) {
  auto request = codec::DecodeRequest(job.body, limits_);
  std::optional<std::string> id =
      request.ok() ? std::optional(request->id) : codec::PeekRequestId(job.body, limits_);
  auto reply_error = [&](Status status) {
    const std::string code(ErrorCodeName(status.code()));
    SendReply(job.header.ticket, codec::EncodeReply(protocol::ErrorReply(id, std::move(status))),
              code);
  };
  if (!request.ok()) return reply_error(request.status());
  if (request->op != protocol::Op::kInfer || request->model != config_.name) {
    return reply_error(InvalidRequest("this worker serves only infer on model " + config_.name));
  }
  if (clock_.Now() >= job.deadline) {
    return reply_error({ErrorCode::kDeadlineExceeded, "deadline passed before the model ran"});
  }
  if (Status s = config_.CheckInputs(request->inputs); !s.ok()) return reply_error(s);
  if (Status s = EnsureLoaded(); !s.ok()) return reply_error(s);
  auto outputs = backend_->Infer(request->inputs);
  if (!outputs.ok()) {
    spdlog::warn("request {} failed: {}", request->id, outputs.status().ToString());
    return reply_error(outputs.status());
  }
  protocol::Reply reply;
  reply.id = request->id;
  reply.outputs = std::move(*outputs);
  std::string encoded = codec::EncodeReply(reply);
  if (encoded.size() > static_cast<uint64_t>(limits_.max_message_bytes)) {
    return reply_error(InvalidRequest(
        "the outputs take " + std::to_string(encoded.size()) +
        " bytes, over the limit max_message_bytes = " + std::to_string(limits_.max_message_bytes) +
        ": send a smaller input"));
  }
  SendReply(job.header.ticket, encoded, "ok");
}

void Executor::SendReply(uint64_t ticket, const std::string& reply, const std::string& code) {
  const std::string header = codec::EncodeJobHeader({ticket, 0, code});
  results_->send(zmq::buffer(wm::kReply), zmq::send_flags::sndmore);
  results_->send(zmq::buffer(header), zmq::send_flags::sndmore);
  results_->send(zmq::buffer(reply), zmq::send_flags::none);
}

void Executor::SendState(const protocol::WorkerState& state) {
  const std::string encoded = codec::EncodeWorkerState(state);
  results_->send(zmq::buffer(wm::kState), zmq::send_flags::sndmore);
  results_->send(zmq::buffer(encoded), zmq::send_flags::none);
}

}  // namespace botmodels
