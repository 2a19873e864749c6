#include "broker/broker.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <zmq_addon.hpp>

#include "broker/boost_process_launcher.h"
#include "broker/reports.h"
#include "broker/worker_plan.h"
#include "common/codec.h"
#include "common/curve_socket.h"
#include "common/log_format.h"
#include "common/process_info.h"
#include "common/worker_env.h"

namespace botmodels {
namespace {

namespace wm = protocol::worker_msg;

std::atomic<int> g_stop_requests{0};  // signals received: 1 drains, 2 stops at once

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

SupervisorOptions MakeSupervisorOptions(const BrokerConfig& c, const BrokerCredentials& keys) {
  SupervisorOptions o;
  o.worker_binary = c.worker_binary.empty() ? DefaultWorkerBinary() : c.worker_binary;
  o.common_args = {"--broker",    c.backend,   "--repository", c.repository,
                   "--log-level", c.log_level, "--log-format", c.log_format};
  const auto number = [&](const char* flag, auto value) {
    o.common_args.insert(o.common_args.end(), {flag, std::to_string(value)});
  };
  number("--heartbeat-ms", c.heartbeat.count());
  number("--liveness-ms", c.liveness.count());
  // The worker decodes the broker's requests within the broker's own limits.
  number("--max-message-bytes", c.limits.max_message_bytes);
  number("--max-tensors", c.limits.max_tensors);
  number("--max-rank", c.limits.max_rank);
  number("--max-elements", c.limits.max_elements);
  number("--max-depth", c.limits.max_depth);
  number("--max-items", c.limits.max_items);
  o.common_env[kWorkerSecretEnv] = keys.worker_secret;
  if (c.curve.backend) {
    o.common_args.insert(o.common_args.end(), {"--curve-server-key", keys.curve_key->public_key});
    o.common_env[kWorkerCurveKeyEnv] = keys.local_worker_key->secret_key;
  }
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
    return "a local peer";  // ipc and inproc carry no address
  }
}

KeyRing WorkerKeys(const std::string& secret) {
  KeyRing keys;
  keys.Add({RequestSigner(kWorkerKeyId, secret), protocol::Role::kInfer});
  return keys;
}

// Refusals logged per peer: a burst of this many, then one per interval.
constexpr int kRefusalLogBurst = 5;
constexpr std::chrono::seconds kRefusalLogInterval{10};
constexpr size_t kRefusalLogPeers = 10'000;  // peers tracked; bounded memory

}  // namespace

Broker::Broker(BrokerConfig config, std::vector<ModelConfig> models, BrokerCredentials credentials,
               std::unique_ptr<ProcessLauncher> launcher)
    : config_(WithDefaults(std::move(config))),
      models_(std::move(models)),
      credentials_(std::move(credentials)),
      started_(clock_.Now()),
      workers_(WorkerKeys(credentials_.worker_secret), config_.auth.max_clock_skew,
               static_cast<size_t>(config_.auth.replay_cache_size)),
      refusals_log_(kRefusalLogInterval, kRefusalLogBurst, kRefusalLogPeers),
      launcher_(std::move(launcher)),
      supervisor_(clock_, *launcher_, MakeSupervisorOptions(config_, credentials_)),
      metrics_(models_),
      router_(clock_, *this, Policies(models_), &metrics_),
      context_(1),
      frontend_(context_, zmq::socket_type::router),
      backend_(context_, zmq::socket_type::router) {
  if (credentials_.client_keys) {
    clients_.emplace(*credentials_.client_keys, config_.auth.max_clock_skew,
                     static_cast<size_t>(config_.auth.replay_cache_size));
  }
}

Broker::~Broker() = default;

void Broker::RequestStop() { g_stop_requests.fetch_add(1); }

bool Broker::Bind() {
  constexpr int kLingerMs = 500;  // on exit, time to flush the last replies
  for (zmq::socket_t* s : {&frontend_, &backend_}) {
    s->set(zmq::sockopt::linger, kLingerMs);
    s->set(zmq::sockopt::maxmsgsize, config_.limits.max_message_bytes);
  }
  const CurveConfig& curve = config_.curve;
  if (curve.frontend || curve.backend) {
    std::map<std::string, std::set<std::string>> allowlists;
    if (curve.frontend) allowlists["frontend"] = credentials_.client_curve_keys;
    if (curve.backend) allowlists["backend"] = credentials_.worker_curve_keys;
    zap_.emplace(context_, std::move(allowlists), clock_);  // before any CURVE socket binds
  }
  for (auto [on, socket, domain] : {std::tuple{curve.frontend, &frontend_, "frontend"},
                                    std::tuple{curve.backend, &backend_, "backend"}}) {
    if (!on) continue;
    if (Status s = MakeCurveServer(*socket, *credentials_.curve_key, domain); !s.ok()) {
      spdlog::critical("{} socket: {}", domain, s.message());
      return false;
    }
  }
  try {
    frontend_.bind(config_.frontend);
    backend_.bind(config_.backend);
  } catch (const zmq::error_t& e) {
    spdlog::critical("cannot bind {} / {}: {}", config_.frontend, config_.backend, e.what());
    return false;
  }
  return true;
}

int Broker::Run() {
  if (!Bind()) return 1;
  if (!config_.http_listen.empty()) {
    constexpr std::chrono::seconds kStaleAfter{5};  // /healthz fails past this without a turn
    http_.emplace(kStaleAfter);
    auto port = http_->Start(config_.http_listen);
    if (!port.ok()) {
      spdlog::critical("{}", port.status().message());
      return 1;
    }
    spdlog::info("http on {}:{}: /healthz /readyz /metrics",
                 config_.http_listen.substr(0, config_.http_listen.rfind(':')), *port);
  }
  if (!clients_) {
    spdlog::warn("auth = \"none\": any local process can use this broker; for development only");
  }
  const int gpus = config_.local_workers && NeedsGpuCount(models_)
                       ? ProbeCudaDevices(supervisor_.options().worker_binary)
                       : 0;
  const int cores = UsableCores();
  admin_.emplace(router_, supervisor_, models_, gpus, cores, config_.local_workers);
  if (config_.local_workers) {
    for (auto& spec : PlanWorkers(models_, gpus, cores)) supervisor_.Add(std::move(spec));
  } else {
    spdlog::info("local_workers = false: waiting for remote workers on {}", config_.backend);
  }
  spdlog::info("broker {} ready: clients on {}{}, workers on {}{}, {} models", BOTMODELS_VERSION,
               config_.frontend, config_.curve.frontend ? " (CURVE)" : "", config_.backend,
               config_.curve.backend ? " (CURVE)" : "", models_.size());

  while (g_stop_requests.load() == 0) Turn();

  draining_ = true;
  const auto drain_until = clock_.Now() + config_.drain_timeout;
  spdlog::info("broker stopping: letting {} accepted requests finish (up to {} ms)",
               router_.pending(), config_.drain_timeout.count());
  while (router_.pending() > 0 && clock_.Now() < drain_until && g_stop_requests.load() < 2) {
    Turn();
  }
  if (router_.pending() > 0) {
    spdlog::warn("broker stopping: answering {} unfinished requests `unavailable`",
                 router_.pending());
  }
  router_.AnswerAll({ErrorCode::kUnavailable, "the broker is shutting down"});
  supervisor_.StopAll();
  if (http_) http_->Stop();
  spdlog::info("broker stopped");
  return 0;
}

void Broker::Turn() {
  const auto wait =
      std::chrono::duration_cast<std::chrono::milliseconds>(router_.ExpireDeadlines(kMaxPollWait));
  zmq::pollitem_t items[] = {{frontend_.handle(), 0, ZMQ_POLLIN, 0},
                             {backend_.handle(), 0, ZMQ_POLLIN, 0},
                             {zap_ ? zap_->socket().handle() : nullptr, 0, ZMQ_POLLIN, 0}};
  try {
    zmq::poll(items, zap_ ? 3 : 2, std::max(wait, std::chrono::milliseconds(1)));
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) throw;
  }
  if (zap_ && (items[2].revents & ZMQ_POLLIN)) zap_->Handle();
  // Workers first: their replies free capacity for the clients' requests.
  if (items[1].revents & ZMQ_POLLIN) HandleWorker();
  if (items[0].revents & ZMQ_POLLIN) HandleClient();
  Housekeeping();
}

void Broker::HandleClient() {
  for (int i = 0; i < kBatch; ++i) {
    std::vector<zmq::message_t> frames;
    if (!zmq::recv_multipart(frontend_, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
      return;
    }
    const std::string client = frames[0].to_string();
    const auto peek_id = [&] {
      return frames.size() > 2 ? codec::PeekRequestId(frames[2].to_string_view(), config_.limits)
                               : std::nullopt;
    };
    if (frames.size() != 1 + protocol::kClientFrames) {
      ReplyToClient(client,
                    protocol::ErrorReply(
                        peek_id(), InvalidRequest("expected 3 frames [header][body][signature], "
                                                  "got " +
                                                  std::to_string(frames.size() - 1))));
      continue;
    }
    auto role = Authenticate(frames);
    if (!role.ok()) {
      ReplyToClient(client, protocol::ErrorReply(peek_id(), role.status()));
      continue;
    }
    // Validated in full, but the tensor bytes stay in the frame: it goes on as is.
    auto request = codec::DecodeRequestView(frames[2].to_string_view(), config_.limits);
    if (!request.ok()) {
      ReplyToClient(client, protocol::ErrorReply(peek_id(), request.status()));
      continue;
    }
    HandleRequest(client, request->request, *role, frames[2]);
  }
}

void Broker::HandleRequest(const std::string& client, const protocol::Request& request,
                           protocol::Role role, zmq::message_t& body) {
  protocol::Reply reply;
  if (const protocol::Role needed = protocol::RequiredRole(request.op); role < needed) {
    reply = protocol::ErrorReply(
        request.id,
        Status(ErrorCode::kPermissionDenied,
               "'" + std::string(protocol::OpName(request.op)) + "' needs a key with role " +
                   std::string(protocol::RoleName(needed)) + "; this key has role " +
                   std::string(protocol::RoleName(role))));
    ReplyToClient(client, reply);
    return;
  }
  switch (request.op) {
    case protocol::Op::kPing:
      reply.broker = Info();
      break;
    case protocol::Op::kModels:
      reply = ModelsReport(models_, router_);
      break;
    case protocol::Op::kStatus:
      reply = StatusReport(supervisor_, router_);
      reply.broker = Info();
      break;
    case protocol::Op::kRestart:
    case protocol::Op::kDrain:
    case protocol::Op::kLoad:
    case protocol::Op::kUnload:
    case protocol::Op::kScale:
      if (Status s = admin_->Run(request); !s.ok()) reply = protocol::ErrorReply(request.id, s);
      break;
    case protocol::Op::kReload:
      if (Status s = Reload(); !s.ok()) reply = protocol::ErrorReply(request.id, s);
      break;
    case protocol::Op::kInfer: {
      if (draining_) {
        reply = protocol::ErrorReply(request.id,
                                     {ErrorCode::kUnavailable, "the broker is shutting down"});
        break;
      }
      PendingRequest pending;
      pending.client = client;
      pending.id = request.id;
      pending.model = request.model;
      pending.body.move(body);
      if (request.timeout_ms.value_or(0) > 0) {  // 0: no deadline of its own
        pending.timeout = std::chrono::milliseconds(*request.timeout_ms);
      }
      router_.Submit(std::move(pending));
      return;  // answered by a worker or the router
    }
  }
  reply.id = request.id;
  ReplyToClient(client, reply);
}

Result<protocol::Role> Broker::Authenticate(std::vector<zmq::message_t>& frames) {
  if (!clients_) return protocol::Role::kAdmin;
  std::string key_id;
  auto key = clients_->Verify(frames[1].to_string_view(), frames[2].to_string_view(),
                              frames[3].to_string_view(), &key_id);
  if (!key.ok()) {
    LogRefusal(PeerOf(frames[1]), "a request (key id '" + key_id + "'): " + key.status().message());
    return key.status();
  }
  return (*key)->role;
}

void Broker::LogRefusal(const std::string& peer, const std::string& what) {
  uint64_t suppressed = 0;
  if (!refusals_log_.Allow(peer, clock_.Now(), &suppressed)) return;
  spdlog::warn(
      "refused {} from {}{}", what, peer,
      suppressed ? fmt::format(" ({} more refusals from there not logged)", suppressed) : "");
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
    if (type == wm::kRegister) {
      RegisterWorker(identity, frames);
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
    } else if (type != wm::kHeartbeat) {
      LogFields fields{{"worker", worker->id}, {"model", worker->model}};
      spdlog::warn("worker {} sent an unknown message '{}'", worker->id, type);
    }
  }
}

void Broker::RegisterWorker(const std::string& identity, std::vector<zmq::message_t>& frames) {
  // Signed: [register][header][hello][signature]. Unsigned [register][hello]
  // only on a CURVE backend, where the ZAP handler has checked the worker's key.
  std::string_view hello_bytes;
  const std::string peer = PeerOf(frames[1]);
  if (frames.size() == 5) {
    std::string key_id;
    auto key = workers_.Verify(frames[2].to_string_view(), frames[3].to_string_view(),
                               frames[4].to_string_view(), &key_id);
    if (!key.ok()) {
      LogRefusal(peer, "a worker registration: " + key.status().message());
      return;  // an unproven worker gets nothing
    }
    hello_bytes = frames[3].to_string_view();
  } else if (frames.size() == 3 && config_.curve.backend) {
    hello_bytes = frames[2].to_string_view();
  } else {
    LogRefusal(peer, "a worker registration without the worker secret's signature");
    return;
  }
  auto hello = codec::DecodeHello(hello_bytes);
  if (!hello.ok() || hello->version != protocol::kVersion || !router_.Serves(hello->model)) {
    spdlog::error(
        "refused a worker registration: {}",
        hello.ok() ? "protocol version or model not served here" : hello.status().message());
    SendToWorkerFrames(identity, {wm::kDisconnect});
    return;
  }
  WorkerRecord record;
  record.id = hello->worker_id;
  record.identity = identity;
  record.model = hello->model;
  record.device = hello->device;
  record.capacity = hello->capacity;
  record.pid = hello->pid;
  record.last_heard = record.last_sent = clock_.Now();
  LogFields fields{{"worker", record.id}, {"model", record.model}};
  spdlog::info("worker {} registered: {} on {}, pid {}, capacity {}", record.id, record.model,
               record.device, record.pid, record.capacity);
  router_.OnRegister(std::move(record));
}

Status Broker::Reload() {
  auto config = LoadBrokerConfig(config_.path);
  if (!config.ok()) return InvalidRequest("reload: " + config.status().message());
  auto models = LoadRepository(config->repository, config->serve);
  if (!models.ok()) return InvalidRequest("reload: " + models.status().message());
  spdlog::info("reload: {} models in {}", models->size(), config->repository);
  admin_->Reload(std::move(*models));
  for (const ModelConfig& m : models_) metrics_.Serve(m.name);
  return {};
}

void Broker::Housekeeping() {
  // Not on every turn: under load a turn comes every few µs, and this polls
  // each worker process (waitpid) and walks every worker.
  constexpr std::chrono::milliseconds kEvery{5};  // delays noticing a death by this, at most
  if (clock_.Now() - last_housekeeping_ < kEvery) return;
  last_housekeeping_ = clock_.Now();
  const std::vector<WorkerExit> exits = supervisor_.Tick();
  for (const WorkerExit& exit : exits) {
    router_.OnWorkerGone(exit.id, exit.load_failed ? Departure::kLoadFailed : Departure::kDied);
  }
  admin_->Tick(exits);
  PublishHealth();
  const auto now = clock_.Now();
  for (const std::string& id : router_.workers().Silent(now, config_.liveness)) {
    LogFields fields{{"worker", id}};
    spdlog::warn("worker {} silent for {} ms: declared dead", id, config_.liveness.count());
    router_.OnWorkerGone(id, Departure::kDied);
    supervisor_.Kill(id);
  }
  for (const std::string& id : router_.HungWorkers(config_.hung_after)) {
    LogFields fields{{"worker", id}};
    spdlog::warn("worker {} still runs a request {} ms past its deadline: hung, killing it", id,
                 config_.hung_after.count());
    router_.OnWorkerGone(id, Departure::kDied);
    supervisor_.Kill(id);
  }
  for (const WorkerSlot& slot : supervisor_.slots()) {
    if (slot.pid != 0 && !slot.killed && !router_.workers().ById(slot.spec.id) &&
        now - slot.started >= config_.register_timeout) {
      LogFields fields{{"worker", slot.spec.id}, {"model", slot.spec.model}};
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

void Broker::PublishHealth() {
  constexpr std::chrono::milliseconds kEvery{250};  // how fresh /metrics and /readyz are
  const auto now = clock_.Now();
  if (!http_ || now - last_published_ < kEvery) return;
  last_published_ = now;
  HealthSnapshot snapshot;
  snapshot.metrics = metrics_.Render(router_, supervisor_, now - started_);
  snapshot.ready = !draining_;
  for (const ModelConfig& m : models_) {
    bool ready = false;
    for (const auto& [id, w] : router_.workers().all()) {
      if (w.model != m.name || w.draining) continue;
      // A preload model needs a loaded worker; a lazy one any worker that can load it.
      ready = ready || w.state == protocol::ModelState::kReady ||
              (!m.preload && w.state != protocol::ModelState::kFailed);
    }
    snapshot.model_ready[m.name] = ready && !draining_ && router_.Loaded(m.name);
    // A model an operator unloaded does not make the broker unready.
    snapshot.ready = snapshot.ready && (ready || !router_.Loaded(m.name));
  }
  http_->Publish(std::move(snapshot));
}

void Broker::SendToWorker(WorkerRecord& worker, PendingRequest& request, uint32_t budget_ms) {
  const std::string header = codec::EncodeJobHeader({request.ticket, budget_ms, ""});
  zmq::message_t body;
  body.copy(request.body);  // shares the bytes (reference-counted), copies none
  backend_.send(zmq::buffer(worker.identity), zmq::send_flags::sndmore);
  backend_.send(zmq::buffer(wm::kRequest), zmq::send_flags::sndmore);
  backend_.send(zmq::buffer(header), zmq::send_flags::sndmore);
  backend_.send(body, zmq::send_flags::none);
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

void Broker::SendToClient(const std::string& client, zmq::message_t reply) {
  frontend_.send(zmq::buffer(client), zmq::send_flags::sndmore);
  frontend_.send(reply, zmq::send_flags::none);
}

void Broker::ReplyToClient(const std::string& client, const protocol::Reply& reply) {
  SendToClient(client, zmq::message_t(codec::EncodeReply(reply)));
}

protocol::BrokerInfo Broker::Info() const {
  return {
      BOTMODELS_VERSION,
      static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now() - started_).count())};
}

}  // namespace botmodels
