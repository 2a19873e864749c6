#include "broker/worker_channel.h"

#include <spdlog/spdlog.h>

#include <zmq_addon.hpp>

#include "broker/broker_sockets.h"
#include "common/codec.h"
#include "common/log_format.h"

namespace botmodels {
namespace {

namespace wm = protocol::worker_msg;

}  // namespace

WorkerChannel::WorkerChannel(zmq::socket_t& socket, const Clock& clock, Router& router,
                             Authenticator workers, bool curve_backend, RefusalLog& refusals)
    : socket_(socket),
      clock_(clock),
      router_(router),
      workers_(std::move(workers)),
      curve_backend_(curve_backend),
      refusals_(refusals) {}

void WorkerChannel::Receive() {
  for (int i = 0; i < BrokerSockets::kReceiveBatch; ++i) {
    frames_.clear();
    if (!zmq::recv_multipart(socket_, std::back_inserter(frames_), zmq::recv_flags::dontwait)) {
      return;
    }
    if (frames_.size() >= 2) HandleMessage(frames_);
  }
}

void WorkerChannel::HandleMessage(std::vector<zmq::message_t>& frames) {
  const std::string identity = frames[0].to_string();
  const std::string_view type = frames[1].to_string_view();
  if (type == wm::kRegister) return Register(identity, frames);
  WorkerRecord* worker = router_.workers().ByIdentity(identity);
  if (!worker) return Send(identity, {wm::kDisconnect});  // e.g. after a broker restart
  worker->last_heard = clock_.Now();
  if (type == wm::kReply && frames.size() == 4) {
    auto header = codec::DecodeJobHeader(frames[2].to_string_view());
    if (header.ok()) router_.OnReply(*worker, *header, std::move(frames[3]));
  } else if (type == wm::kState && frames.size() == 3) {
    auto state = codec::DecodeWorkerState(frames[2].to_string_view());
    if (state.ok()) {
      LogFields fields{{"worker", worker->id}, {"model", worker->model}};
      spdlog::info("worker {}: model {} {}{}", worker->id, worker->model,
                   protocol::ModelStateName(state->state),
                   state->message.empty() ? "" : ": " + state->message);
      router_.OnState(*worker, *state);
    }
  } else if (type == wm::kMemory && frames.size() == 3) {
    auto memory = codec::DecodeWorkerMemory(frames[2].to_string_view());
    if (memory.ok()) worker->memory = *memory;
  } else if (type == wm::kCredit && frames.size() == 3) {
    auto credit = codec::DecodeWorkerCredit(frames[2].to_string_view());
    if (credit.ok()) router_.OnCredit(*worker, *credit);
  } else if (type != wm::kHeartbeat) {
    LogFields fields{{"worker", worker->id}, {"model", worker->model}};
    spdlog::warn("worker {} sent an unknown message '{}'", worker->id, type);
  }
}

void WorkerChannel::Register(const std::string& identity, std::vector<zmq::message_t>& frames) {
  // Signed: [register][header][hello][signature]. Unsigned [register][hello]
  // only on a CURVE backend, where the ZAP handler has checked the worker's key.
  std::string_view hello_bytes;
  const std::string peer = RefusalLog::PeerOf(frames[1]);
  if (frames.size() == 5) {
    std::string key_id;
    auto key = workers_.Verify(frames[2].to_string_view(), frames[3].to_string_view(),
                               frames[4].to_string_view(), &key_id);
    if (!key.ok()) {
      refusals_.Refused(peer, "a worker registration: " + key.status().message());
      return;  // an unproven worker gets nothing
    }
    hello_bytes = frames[3].to_string_view();
  } else if (frames.size() == 3 && curve_backend_) {
    hello_bytes = frames[2].to_string_view();
  } else {
    refusals_.Refused(peer, "a worker registration without the worker secret's signature");
    return;
  }
  auto hello = codec::DecodeHello(hello_bytes);
  if (!hello.ok() || hello->version != protocol::kVersion || !router_.Serves(hello->model)) {
    spdlog::error(
        "refused a worker registration: {}",
        hello.ok() ? "protocol version or model not served here" : hello.status().message());
    return Send(identity, {wm::kDisconnect});
  }
  WorkerRecord record;
  record.id = hello->worker_id;
  record.identity = identity;
  record.model = hello->model;
  record.device = hello->device;
  record.capacity = hello->capacity;
  record.threads = hello->threads;
  record.pid = hello->pid;
  record.last_heard = record.last_sent = clock_.Now();
  LogFields fields{{"worker", record.id}, {"model", record.model}};
  spdlog::info("worker {} registered: {} on {}, pid {}, capacity {}", record.id, record.model,
               record.device, record.pid, record.capacity);
  router_.OnRegister(std::move(record));
}

void WorkerChannel::SendRequest(WorkerRecord& worker, PendingRequest& request,
                                const protocol::JobHeader& job) {
  const std::string header = codec::EncodeJobHeader(job);
  zmq::message_t body;
  body.copy(request.body);  // shares the bytes (reference-counted), copies none
  socket_.send(zmq::buffer(worker.identity), zmq::send_flags::sndmore);
  socket_.send(zmq::buffer(wm::kRequest), zmq::send_flags::sndmore);
  socket_.send(zmq::buffer(header), zmq::send_flags::sndmore);
  socket_.send(body, zmq::send_flags::none);
}

void WorkerChannel::SendHeartbeats(std::chrono::milliseconds interval) {
  const auto now = clock_.Now();
  for (auto& [id, worker] : router_.workers().all()) {
    if (now - worker.last_sent >= interval) {
      Send(worker.identity, {wm::kHeartbeat});
      worker.last_sent = now;
    }
  }
}

void WorkerChannel::Send(const std::string& identity,
                         std::initializer_list<std::string_view> frames) {
  socket_.send(zmq::buffer(identity), zmq::send_flags::sndmore);
  size_t i = 0;
  for (std::string_view f : frames) {
    socket_.send(zmq::buffer(f),
                 ++i < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
}

}  // namespace botmodels
