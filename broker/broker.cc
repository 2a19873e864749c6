#include "broker/broker.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>

#include "broker/reports.h"
#include "broker/worker_launch.h"
#include "broker/worker_plan.h"
#include "common/process_info.h"
#include "common/worker_env.h"

namespace botmodels {
namespace {

// Upper bound on one poll: how often exits, heartbeats and liveness are checked.
constexpr std::chrono::milliseconds kMaxPollWait{50};

BrokerConfig WithDefaults(BrokerConfig c) {
  if (c.backend.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    c.backend = "ipc://" + std::string(tmp && *tmp ? tmp : "/tmp") + "/botmodels-" +
                std::to_string(getpid()) + ".sock";
  }
  return c;
}

std::vector<ModelPolicy> Policies(const std::vector<ModelConfig>& models) {
  std::vector<ModelPolicy> policies;
  for (const auto& m : models) policies.push_back(PolicyOf(m));
  return policies;
}

std::optional<Authenticator> ClientAuthenticator(const BrokerConfig& c,
                                                 const BrokerCredentials& credentials) {
  if (!credentials.client_keys) return std::nullopt;
  return Authenticator(*credentials.client_keys, c.auth.max_clock_skew,
                       static_cast<size_t>(c.auth.replay_cache_size));
}

Authenticator WorkerAuthenticator(const BrokerConfig& c, const std::string& secret) {
  KeyRing keys;
  keys.Add({RequestSigner(kWorkerKeyId, secret), protocol::Role::kInfer});
  return Authenticator(std::move(keys), c.auth.max_clock_skew,
                       static_cast<size_t>(c.auth.replay_cache_size));
}

}  // namespace

Broker::Broker(BrokerConfig config, std::vector<ModelConfig> models, BrokerCredentials credentials,
               std::unique_ptr<ProcessLauncher> launcher, const Clock& clock,
               const std::atomic<int>& stop_requests)
    : config_(WithDefaults(std::move(config))),
      credentials_(std::move(credentials)),
      clock_(clock),
      stop_requests_(stop_requests),
      started_(clock.Now()),
      models_(std::move(models)),
      launcher_(std::move(launcher)),
      supervisor_(clock_, *launcher_, WorkerLaunchOptions(config_, credentials_)),
      services_(clock_, *launcher_, ServiceLaunchOptions(config_)),
      metrics_(models_),
      router_(clock_, *this, Policies(models_), &metrics_, static_cast<uint32_t>(UsableCores())),
      residency_(clock_, router_, supervisor_, models_, config_.devices),
      refusals_(clock_),
      sockets_(config_, credentials_, clock_),
      frontend_(sockets_.frontend(), config_.limits, ClientAuthenticator(config_, credentials_),
                refusals_, *this),
      channel_(sockets_.backend(), clock_, router_,
               WorkerAuthenticator(config_, credentials_.worker_secret), config_.curve.backend,
               refusals_),
      liveness_(clock_, router_, supervisor_,
                {config_.liveness, config_.hung_after, config_.register_timeout}) {}

Broker::~Broker() = default;

int Broker::Run() {
  if (Status s = sockets_.Bind(); !s.ok()) {
    spdlog::critical("{}", s.message());
    return 1;
  }
  if (!config_.http_listen.empty()) {
    constexpr std::chrono::seconds kStaleAfter{5};  // /healthz fails past this without a turn
    http_.emplace(kStaleAfter);
    auto port = http_->Start(config_.http_listen);
    if (!port.ok()) {
      spdlog::critical("{}", port.status().message());
      return 1;
    }
    readiness_.emplace(clock_, started_, *http_, metrics_, router_, supervisor_, residency_,
                       models_);
    spdlog::info("http on {}:{}: /healthz /readyz /metrics",
                 config_.http_listen.substr(0, config_.http_listen.rfind(':')), *port);
  }
  if (!credentials_.client_keys) {
    spdlog::warn("auth = \"none\": any local process can use this broker; for development only");
  }
  const int gpus = config_.local_workers && NeedsGpuCount(models_)
                       ? ProbeCudaDevices(*launcher_, supervisor_.options().worker_binary)
                       : 0;
  const int cores = UsableCores();
  admin_.emplace(router_, supervisor_, models_, gpus, cores, config_.local_workers);
  if (config_.local_workers) {
    for (auto& spec : PlanWorkers(models_, gpus, cores)) supervisor_.Add(std::move(spec));
    residency_.Tick(*admin_);  // models past a device's limits start evicted
  } else {
    if (!config_.devices.empty()) spdlog::warn("[devices] limits apply to local workers only");
    spdlog::info("local_workers = false: waiting for remote workers on {}", config_.backend);
  }
  const std::string frontend = sockets_.frontend_endpoint();
  if (auto gateway = GatewaySpec(config_, frontend)) services_.Add(std::move(*gateway));
  spdlog::info("broker {} ready: clients on {}{}, workers on {}{}, {} models", BOTMODELS_VERSION,
               frontend, config_.curve.frontend ? " (CURVE)" : "", config_.backend,
               config_.curve.backend ? " (CURVE)" : "", models_.size());

  while (stop_requests_.load() == 0) Turn();

  draining_ = true;
  const auto drain_until = clock_.Now() + config_.drain_timeout;
  spdlog::info("broker stopping: letting {} accepted requests finish (up to {} ms)",
               router_.pending(), config_.drain_timeout.count());
  while (router_.pending() > 0 && clock_.Now() < drain_until && stop_requests_.load() < 2) {
    Turn();
  }
  if (router_.pending() > 0) {
    spdlog::warn("broker stopping: answering {} unfinished requests `unavailable`",
                 router_.pending());
  }
  router_.AnswerAll({ErrorCode::kUnavailable, "the broker is shutting down"});
  RefuseStragglers();
  services_.StopAll();
  supervisor_.StopAll();
  if (http_) http_->Stop();
  spdlog::info("broker stopped");
  return 0;
}

void Broker::RefuseStragglers() {
  // Clients answered by the drain may already have sent their next request:
  // it is refused (`unavailable`, retryable), not left unread, until the
  // frontend has been quiet this long, or for this long at most.
  constexpr std::chrono::milliseconds kQuiet{50};
  constexpr std::chrono::milliseconds kLongest{1000};
  const auto until = clock_.Now() + kLongest;
  while (clock_.Now() < until && sockets_.Poll(kQuiet).frontend) frontend_.Receive();
}

void Broker::Turn() {
  const auto wait =
      std::chrono::duration_cast<std::chrono::milliseconds>(router_.RunTimers(kMaxPollWait));
  const BrokerSockets::Input input = sockets_.Poll(wait);
  // Workers first: their replies free capacity for the clients' requests.
  if (input.backend) channel_.Receive();
  if (input.frontend) frontend_.Receive();
  Housekeeping();
}

void Broker::Housekeeping() {
  // Not on every turn: under load a turn comes every few µs, and this polls
  // each worker process (waitpid) and walks every worker.
  constexpr std::chrono::milliseconds kEvery{5};  // delays noticing a death by this, at most
  if (clock_.Now() - last_housekeeping_ < kEvery) return;
  last_housekeeping_ = clock_.Now();
  services_.Tick();  // the gateway restarts after a backoff, like a worker
  const std::vector<WorkerExit> exits = supervisor_.Tick();
  for (const WorkerExit& exit : exits) {
    router_.OnWorkerGone(exit.id, exit.load_failed ? Departure::kLoadFailed : Departure::kDied);
  }
  admin_->Tick(exits);
  residency_.Tick(*admin_);

  liveness_.Check();
  channel_.SendHeartbeats(config_.heartbeat);
  if (readiness_) readiness_->Publish(draining_);
}

void Broker::Handle(const std::string& client, const protocol::Request& request,
                    zmq::message_t& body) {
  protocol::Reply reply;
  switch (request.op) {
    case protocol::Op::kPing:
      reply.broker = Info();
      break;
    case protocol::Op::kModels:
      reply = ModelsReport(models_, router_, &residency_);
      break;
    case protocol::Op::kStatus:
      reply = StatusReport(supervisor_, router_, &residency_);
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
      if (router_.Serves(request.model)) {
        if (Status s = residency_.OnRequest(request.model, *admin_); !s.ok()) {
          reply = protocol::ErrorReply(request.id, s);
          break;
        }
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
  frontend_.Reply(client, reply);
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

protocol::BrokerInfo Broker::Info() const {
  protocol::BrokerInfo info;
  info.version = BOTMODELS_VERSION;
  info.uptime_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now() - started_).count());
  info.time_ms = static_cast<uint64_t>(UnixMillis());
  info.limits = config_.limits;
  return info;
}

void Broker::SendToWorker(WorkerRecord& worker, PendingRequest& request,
                          const protocol::JobHeader& job) {
  channel_.SendRequest(worker, request, job);
}

Delivery Broker::SendToClient(const std::string& client, zmq::message_t& reply) {
  return frontend_.Send(client, reply);
}

}  // namespace botmodels
