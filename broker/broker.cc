#include "broker/broker.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <zmq_addon.hpp>

#include "broker/boost_process_launcher.h"
#include "broker/worker_plan.h"
#include "common/codec.h"

namespace botmodels {
namespace {

namespace wm = protocol::worker_msg;

std::atomic<bool> g_stop{false};

// Upper bound on one poll: how often exits, heartbeats and liveness are checked.
constexpr std::chrono::milliseconds kMaxPollWait{50};
// Messages read from one socket per loop turn, so neither side starves the other.
constexpr int kBatch = 256;

std::string DefaultBackend() {
  const char* tmp = std::getenv("TMPDIR");
  return "ipc://" + std::string(tmp && *tmp ? tmp : "/tmp") + "/botmodels-" +
         std::to_string(getpid()) + ".sock";
}

std::string DefaultWorkerBinary() {
  return (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "botmodels-worker")
      .string();
}

SupervisorOptions MakeSupervisorOptions(const BrokerConfig& c) {
  SupervisorOptions o;
  o.worker_binary = c.worker_binary.empty() ? DefaultWorkerBinary() : c.worker_binary;
  o.common_args = {"--broker",       c.backend,
                   "--repository",   c.repository,
                   "--heartbeat-ms", std::to_string(c.heartbeat.count()),
                   "--liveness-ms",  std::to_string(c.liveness.count()),
                   "--log-level",    c.log_level};
  o.backoff_min = c.backoff_min;
  o.backoff_max = c.backoff_max;
  o.stable_after = c.stable_after;
  o.stop_grace = c.stop_grace;
  return o;
}

std::vector<ModelPolicy> Policies(const std::vector<ModelConfig>& models) {
  std::vector<ModelPolicy> policies;
  for (const auto& m : models) policies.push_back({m.name, m.queue_size, m.timeout});
  return policies;
}

BrokerConfig WithDefaults(BrokerConfig c) {
  if (c.backend.empty()) c.backend = DefaultBackend();
  return c;
}

std::string PeerOf(zmq::message_t& frame) {
  try {
    return frame.gets("Peer-Address");
  } catch (const zmq::error_t&) {
    return "local peer";  // ipc and inproc carry no address
  }
}

}  // namespace

Broker::Broker(BrokerConfig config, std::vector<ModelConfig> models, std::string secret,
               std::unique_ptr<ProcessLauncher> launcher)
    : config_(WithDefaults(std::move(config))),
      models_(std::move(models)),
      signer_(
          config_.auth.mode == AuthMode::kHmac
              ? std::optional<RequestSigner>(std::in_place, config_.auth.key_id, std::move(secret))
              : std::nullopt),
      started_(clock_.Now()),
      launcher_(std::move(launcher)),
      supervisor_(clock_, *launcher_, MakeSupervisorOptions(config_)),
      router_(clock_, *this, Policies(models_)),
      context_(1),
      frontend_(context_, zmq::socket_type::router),
      backend_(context_, zmq::socket_type::router) {}

Broker::~Broker() = default;

void Broker::RequestStop() { g_stop.store(true); }

void Broker::Bind() {
  constexpr int kLingerMs = 500;  // on exit, time to flush the last replies
  for (zmq::socket_t* s : {&frontend_, &backend_}) s->set(zmq::sockopt::linger, kLingerMs);
  frontend_.bind(config_.frontend);
  backend_.bind(config_.backend);
}

int Broker::Run() {
  try {
    Bind();
  } catch (const zmq::error_t& e) {
    spdlog::critical("cannot bind {} / {}: {}", config_.frontend, config_.backend, e.what());
    return 1;
  }
  if (!signer_) {
    spdlog::warn("auth = \"none\": any local process can use this broker; for development only");
  }
  const int gpus =
      NeedsGpuCount(models_) ? ProbeCudaDevices(supervisor_.options().worker_binary) : 0;
  for (auto& spec : PlanWorkers(models_, gpus)) supervisor_.Add(std::move(spec));
  spdlog::info("broker {} ready: clients on {}, workers on {}, {} models", BOTMODELS_VERSION,
               config_.frontend, config_.backend, models_.size());

  while (!g_stop.load()) {
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
        router_.ExpireDeadlines(kMaxPollWait));
    zmq::pollitem_t items[] = {{frontend_.handle(), 0, ZMQ_POLLIN, 0},
                               {backend_.handle(), 0, ZMQ_POLLIN, 0}};
    try {
      zmq::poll(items, 2, std::max(wait, std::chrono::milliseconds(1)));
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
    }
    // Workers first: their replies free capacity for the clients' requests.
    if (items[1].revents & ZMQ_POLLIN) HandleWorker();
    if (items[0].revents & ZMQ_POLLIN) HandleClient();
    Housekeeping();
  }

  spdlog::info("broker stopping: answering {} pending requests and stopping workers",
               router_.pending());
  router_.AnswerAll({ErrorCode::kUnavailable, "the broker is shutting down"});
  supervisor_.StopAll();
  spdlog::info("broker stopped");
  return 0;
}

void Broker::HandleClient() {
  for (int i = 0; i < kBatch; ++i) {
    std::vector<zmq::message_t> frames;
    if (!zmq::recv_multipart(frontend_, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
      return;
    }
    const std::string client = frames[0].to_string();
    if (frames.size() != 1 + protocol::kClientFrames) {
      const auto id =
          frames.size() > 2 ? codec::PeekRequestId(frames[2].to_string_view()) : std::nullopt;
      ReplyToClient(client, protocol::ErrorReply(
                                id, InvalidRequest("expected 3 frames [header][body][signature], "
                                                   "got " +
                                                   std::to_string(frames.size() - 1))));
      continue;
    }
    if (Status auth = Authenticate(frames); !auth.ok()) {
      ReplyToClient(client,
                    protocol::ErrorReply(codec::PeekRequestId(frames[2].to_string_view()), auth));
      continue;
    }
    auto request = codec::DecodeRequest(frames[2].to_string_view());
    if (!request.ok()) {
      ReplyToClient(client, protocol::ErrorReply(codec::PeekRequestId(frames[2].to_string_view()),
                                                 request.status()));
      continue;
    }
    switch (request->op) {
      case protocol::Op::kPing: {
        protocol::Reply reply;
        reply.id = request->id;
        reply.broker = Info();
        ReplyToClient(client, reply);
        break;
      }
      case protocol::Op::kModels: {
        protocol::Reply reply = ModelsReply();
        reply.id = request->id;
        ReplyToClient(client, reply);
        break;
      }
      case protocol::Op::kStatus: {
        protocol::Reply reply = StatusReply();
        reply.id = request->id;
        ReplyToClient(client, reply);
        break;
      }
      case protocol::Op::kInfer: {
        PendingRequest pending;
        pending.client = client;
        pending.id = request->id;
        pending.model = request->model;
        pending.body = frames[2].to_string();
        if (request->timeout_ms.value_or(0) > 0) {  // 0: no deadline of its own
          pending.timeout = std::chrono::milliseconds(*request->timeout_ms);
        }
        router_.Submit(std::move(pending));
        break;
      }
    }
  }
}

Status Broker::Authenticate(std::vector<zmq::message_t>& frames) {
  if (!signer_) return {};
  auto fail = [&](const std::string& key_id, const std::string& why) {
    spdlog::warn("refused a request from {} (key id '{}'): {}", PeerOf(frames[1]), key_id, why);
    return Status(ErrorCode::kUnauthenticated, why);
  };
  const std::string_view header_bytes = frames[1].to_string_view();
  auto header = codec::DecodeAuthHeader(header_bytes);
  if (!header.ok()) return fail("?", "bad auth header: " + header.status().message());
  // Verify before reading anything else the peer chose: a forged timestamp or
  // key id is as bad as a forged body.
  if (Status s =
          signer_->Verify(header_bytes, frames[2].to_string_view(), frames[3].to_string_view());
      !s.ok() || header->key_id != signer_->key_id()) {
    return fail(header->key_id, "signature does not match (wrong key or secret)");
  }
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const int64_t skew = now_ms - static_cast<int64_t>(header->timestamp_ms);
  if (std::abs(skew) > config_.auth.max_clock_skew.count()) {
    return fail(header->key_id, "timestamp is " + std::to_string(skew) +
                                    " ms away from the broker's clock (window " +
                                    std::to_string(config_.auth.max_clock_skew.count()) + " ms)");
  }
  return {};
}

void Broker::HandleWorker() {
  for (int i = 0; i < kBatch; ++i) {
    std::vector<zmq::message_t> frames;
    if (!zmq::recv_multipart(backend_, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
      return;
    }
    if (frames.size() < 2) continue;
    const std::string identity = frames[0].to_string();
    const std::string_view type = frames[1].to_string_view();
    if (type == wm::kRegister && frames.size() == 3) {
      auto hello = codec::DecodeHello(frames[2].to_string_view());
      if (!hello.ok() || hello->version != protocol::kVersion || !router_.Serves(hello->model)) {
        spdlog::error(
            "refused a worker registration: {}",
            hello.ok() ? "protocol version or model not served here" : hello.status().message());
        SendToWorkerFrames(identity, {wm::kDisconnect});
        continue;
      }
      WorkerRecord record;
      record.id = hello->worker_id;
      record.identity = identity;
      record.model = hello->model;
      record.device = hello->device;
      record.capacity = hello->capacity;
      record.pid = hello->pid;
      record.last_heard = record.last_sent = clock_.Now();
      spdlog::info("worker {} registered: {} on {}, pid {}, capacity {}", record.id, record.model,
                   record.device, record.pid, record.capacity);
      router_.OnRegister(std::move(record));
      continue;
    }
    WorkerRecord* worker = router_.workers().ByIdentity(identity);
    if (!worker) {
      SendToWorkerFrames(identity, {wm::kDisconnect});  // e.g. after a broker restart
      continue;
    }
    worker->last_heard = clock_.Now();
    if (type == wm::kReply && frames.size() == 4) {
      auto header = codec::DecodeJobHeader(frames[2].to_string_view());
      if (header.ok()) router_.OnReply(*worker, header->ticket, frames[3].to_string());
    } else if (type == wm::kState && frames.size() == 3) {
      auto state = codec::DecodeWorkerState(frames[2].to_string_view());
      if (state.ok()) {
        spdlog::info("worker {}: model {} {}{}", worker->id, worker->model,
                     protocol::ModelStateName(state->state),
                     state->message.empty() ? "" : ": " + state->message);
        router_.OnState(*worker, *state);
      }
    } else if (type != wm::kHeartbeat) {
      spdlog::warn("worker {} sent an unknown message '{}'", worker->id, type);
    }
  }
}

void Broker::Housekeeping() {
  for (const WorkerExit& exit : supervisor_.Tick()) {
    router_.OnWorkerGone(exit.id, exit.load_failed ? Departure::kLoadFailed : Departure::kDied);
  }
  const auto now = clock_.Now();
  for (const std::string& id : router_.workers().Silent(now, config_.liveness)) {
    spdlog::warn("worker {} silent for {} ms: declared dead", id, config_.liveness.count());
    router_.OnWorkerGone(id, Departure::kDied);
    supervisor_.Kill(id);
  }
  for (const std::string& id : router_.HungWorkers(config_.hung_after)) {
    spdlog::warn("worker {} still runs a request {} ms past its deadline: hung, killing it", id,
                 config_.hung_after.count());
    router_.OnWorkerGone(id, Departure::kDied);
    supervisor_.Kill(id);
  }
  for (const WorkerSlot& slot : supervisor_.slots()) {
    if (slot.pid != 0 && !slot.killed && !router_.workers().ById(slot.spec.id) &&
        now - slot.started >= config_.register_timeout) {
      spdlog::warn("worker {} (pid {}) has not registered {} ms after its start: killing it",
                   slot.spec.id, slot.pid, config_.register_timeout.count());
      supervisor_.Kill(slot.spec.id);
    }
  }
  for (auto& [id, worker] : router_.workers().all()) {
    if (now - worker.last_sent >= config_.heartbeat) {
      SendToWorkerFrames(worker.identity, {wm::kHeartbeat});
      worker.last_sent = now;
    }
  }
}

void Broker::SendToWorker(WorkerRecord& worker, const PendingRequest& request, uint32_t budget_ms) {
  const std::string header = codec::EncodeJobHeader({request.ticket, budget_ms});
  SendToWorkerFrames(worker.identity, {wm::kRequest, header, request.body});
}

void Broker::SendToWorkerFrames(const std::string& identity,
                                std::initializer_list<std::string_view> frames) {
  backend_.send(zmq::buffer(identity), zmq::send_flags::sndmore);
  size_t i = 0;
  for (std::string_view f : frames) {
    backend_.send(zmq::buffer(f),
                  ++i < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
}

void Broker::SendToClient(const std::string& client, const std::string& reply) {
  frontend_.send(zmq::buffer(client), zmq::send_flags::sndmore);
  frontend_.send(zmq::buffer(reply), zmq::send_flags::none);
}

void Broker::ReplyToClient(const std::string& client, const protocol::Reply& reply) {
  SendToClient(client, codec::EncodeReply(reply));
}

protocol::BrokerInfo Broker::Info() const {
  return {
      BOTMODELS_VERSION,
      static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now() - started_).count())};
}

protocol::Reply Broker::ModelsReply() const {
  protocol::Reply reply;
  for (const auto& m : models_) {
    protocol::ModelInfo info;
    info.name = m.name;
    bool loading = false;
    for (const auto& [id, w] : router_.workers().all()) {
      if (w.model != m.name) continue;
      ++info.workers;
      info.ready_workers += w.state == protocol::ModelState::kReady;
      loading = loading || w.state == protocol::ModelState::kLoading;
    }
    info.queued = router_.Queued(m.name);
    info.queue_size = m.queue_size;
    info.last_error = router_.LoadError(m.name);
    info.inputs = m.inputs;
    info.outputs = m.outputs;
    if (info.ready_workers > 0) {
      info.state = "ready";
    } else if (loading) {
      info.state = "loading";
    } else if (!info.last_error.empty()) {
      info.state = "load_failed";
    } else if (info.workers > 0) {
      info.state = "idle";
    } else {
      info.state = "unavailable";
    }
    reply.models.push_back(std::move(info));
  }
  return reply;
}

protocol::Reply Broker::StatusReply() const {
  protocol::Reply reply;
  reply.broker = Info();
  auto describe = [&](const WorkerRecord& w, protocol::WorkerInfo& info) {
    info.state = protocol::ModelStateName(w.state);
    info.in_flight = static_cast<uint32_t>(w.in_flight.size());
    info.served = w.served;
    info.device = w.device;
    info.pid = w.pid;
  };
  for (const WorkerSlot& slot : supervisor_.slots()) {
    protocol::WorkerInfo info;
    info.id = slot.spec.id;
    info.model = slot.spec.model;
    info.device = slot.spec.device;
    info.pid = slot.pid;
    info.restarts = slot.restarts;
    info.last_exit = slot.last_exit;
    info.state = slot.pid != 0 ? "starting" : "backoff";
    const auto& all = router_.workers().all();
    if (auto it = all.find(slot.spec.id); it != all.end() && slot.pid != 0)
      describe(it->second, info);
    reply.workers.push_back(std::move(info));
  }
  for (const auto& [id, w] : router_.workers().all()) {
    if (supervisor_.Find(id)) continue;
    protocol::WorkerInfo info;  // a worker this broker did not start
    info.id = id;
    info.model = w.model;
    describe(w, info);
    reply.workers.push_back(std::move(info));
  }
  return reply;
}

}  // namespace botmodels
