#include "broker/router.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/codec.h"
#include "common/log_format.h"

namespace botmodels {
namespace {

// Compact a queue once this many answered tickets sit in it: keeps memory
// bounded under a flood of requests that expire while queued.
constexpr size_t kCompactSlack = 64;

Status UnloadedStatus(const std::string& model) {
  return {ErrorCode::kUnavailable,
          "model '" + model + "' is unloaded: an operator stopped its workers (load starts them)"};
}

}  // namespace

ModelPolicy PolicyOf(const ModelConfig& model) {
  return {model.name, model.queue_size, model.timeout};
}

Router::Router(const Clock& clock, Outbox& outbox, const std::vector<ModelPolicy>& models,
               RequestObserver* observer, uint32_t cpu_cores)
    : clock_(clock), outbox_(outbox), observer_(observer), cpu_cores_(cpu_cores) {
  for (const auto& m : models) models_[m.name].policy = m;
}

void Router::SetPolicy(const ModelPolicy& policy) { models_[policy.name].policy = policy; }

void Router::Submit(PendingRequest request) {
  request.ticket = next_ticket_++;
  const uint64_t ticket = request.ticket;
  auto model = models_.find(request.model);
  const auto now = clock_.Now();
  request.accepted = now;
  requests_.emplace(ticket, std::move(request));
  PendingRequest& r = requests_.at(ticket);
  if (model == models_.end()) {
    return Answer(ticket, {ErrorCode::kUnknownModel, "no model named '" + r.model + "'"});
  }
  ModelQueue& q = model->second;
  if (q.unloaded) return Answer(ticket, UnloadedStatus(r.model));
  if (!q.load_error.empty() && workers_.Usable(r.model) == 0) {
    return Answer(ticket, {ErrorCode::kModelLoadFailed, q.load_error});
  }
  if (q.live >= q.policy.queue_size) {
    return Answer(ticket,
                  {ErrorCode::kOverloaded, "model '" + r.model + "' has " + std::to_string(q.live) +
                                               " requests queued (the most it queues)"});
  }
  std::chrono::milliseconds timeout = q.policy.timeout;
  if (r.timeout && (timeout.count() == 0 || *r.timeout < timeout)) timeout = *r.timeout;
  if (timeout.count() > 0) {
    r.deadline = now + timeout;
    deadlines_.emplace(r.deadline, ticket);
  }
  Enqueue(r, /*front=*/false);
  Dispatch(r.model);
}

void Router::Enqueue(PendingRequest& request, bool front) {
  ModelQueue& q = models_.at(request.model);
  request.worker.clear();
  if (front) {
    q.tickets.push_front(request.ticket);
  } else {
    q.tickets.push_back(request.ticket);
  }
  ++q.live;
}

void Router::Dispatch(const std::string& model) {
  // Assign first, send after: each job then tells its worker how many more
  // follow it (JobHeader::queued), so that a batching worker waits for
  // company only when some is on its way.
  ModelQueue& q = models_.at(model);
  const auto now = clock_.Now();
  round_.clear();
  while (!q.tickets.empty()) {
    auto it = requests_.find(q.tickets.front());
    if (it == requests_.end() || !it->second.worker.empty()) {
      q.tickets.pop_front();  // answered while queued
      continue;
    }
    WorkerRecord* worker = workers_.Pick(model, cpu_cores_);
    if (!worker) break;
    q.tickets.pop_front();
    --q.live;
    PendingRequest& r = it->second;
    r.worker = worker->id;
    r.dispatched = now;
    worker->in_flight.insert(r.ticket);
    worker->last_sent = worker->last_job = now;
    round_.emplace_back(worker, &r);
  }
  for (size_t i = 0; i < round_.size(); ++i) {
    auto [worker, r] = round_[i];
    const auto queued = std::count_if(round_.begin() + i + 1, round_.end(),
                                      [worker](const auto& job) { return job.first == worker; });
    outbox_.SendToWorker(
        *worker, *r,
        {.ticket = r->ticket, .budget_ms = BudgetMs(*r), .queued = static_cast<uint32_t>(queued)});
  }
}

uint32_t Router::BudgetMs(const PendingRequest& request) const {
  if (request.deadline == Clock::TimePoint::max()) return 0;
  const auto left =
      std::chrono::ceil<std::chrono::milliseconds>(request.deadline - clock_.Now()).count();
  return static_cast<uint32_t>(std::max<int64_t>(left, 1));
}

void Router::OnRegister(WorkerRecord record) {
  if (const WorkerRecord* old = workers_.ById(record.id)) {
    // The same worker id on a new connection: the old connection is gone.
    if (old->pid == record.pid) record.served = old->served;
    OnWorkerGone(record.id, Departure::kDied);
  }
  const std::string model = record.model;
  workers_.Add(std::move(record));
  if (models_.contains(model)) Dispatch(model);
}

void Router::OnState(WorkerRecord& worker, const protocol::WorkerState& state) {
  worker.state = state.state;
  if (state.state == protocol::ModelState::kReady) worker.load_ms = state.load_ms;
  auto it = models_.find(worker.model);
  if (it == models_.end()) return;
  ModelQueue& q = it->second;
  if (state.state == protocol::ModelState::kReady) q.load_error.clear();
  if (state.state == protocol::ModelState::kFailed) {
    q.load_error = state.message.empty() ? "the model failed to load" : state.message;
    if (workers_.Usable(worker.model) == 0) {
      FlushQueue(q, {ErrorCode::kModelLoadFailed, q.load_error});
    }
  }
}

void Router::OnCredit(WorkerRecord& worker, const protocol::WorkerCredit& credit) {
  worker.capacity = credit.capacity;
  if (models_.contains(worker.model)) Dispatch(worker.model);
}

void Router::OnReply(WorkerRecord& worker, const protocol::JobHeader& job, zmq::message_t reply) {
  const uint64_t ticket = job.ticket;
  if (job.more) return OnPartial(worker, ticket, std::move(reply));
  if (worker.in_flight.erase(ticket) == 0) return;  // not ours, or a duplicate
  overdue_.erase(ticket);
  ++worker.served;
  auto it = requests_.find(ticket);
  if (it != requests_.end() && it->second.worker == worker.id) {
    SendFinal(it->second.client, std::move(reply));
    it->second.batch_rows = job.batch;
    if (observer_)
      observer_->OnAnswered(it->second, job.code.empty() ? "internal" : job.code, clock_.Now());
    requests_.erase(it);
  }
  Dispatch(worker.model);
}

void Router::OnPartial(WorkerRecord& worker, uint64_t ticket, zmq::message_t reply) {
  if (worker.in_flight.count(ticket) == 0) return;  // not ours
  auto it = requests_.find(ticket);
  // Answered already (deadline, a client too slow): the rest of the stream is dropped.
  if (it == requests_.end() || it->second.worker != worker.id) return;
  PendingRequest& r = it->second;
  const Delivery delivery = outbox_.SendToClient(r.client, reply);
  if (delivery == Delivery::kSent) {
    ++r.partials;
    return;
  }
  if (delivery == Delivery::kGone)
    return Answer(ticket, {ErrorCode::kUnavailable, "the client left"});
  LogFields fields{{"request", r.id}, {"model", r.model}};
  spdlog::warn("request {}: the client does not read its partial replies; ending the stream", r.id);
  Answer(ticket,
         Status(ErrorCode::kOverloaded,
                "the client did not read the partial replies as fast as they were made: "
                "the broker queues a bounded number per client, and ended the stream after " +
                    std::to_string(r.partials))
             .WithRetryable(true));
}

void Router::OnWorkerGone(const std::string& worker_id, Departure why) {
  std::optional<WorkerRecord> gone = workers_.Remove(worker_id);
  if (!gone) return;
  auto model = models_.find(gone->model);
  for (uint64_t ticket : gone->in_flight) {
    overdue_.erase(ticket);
    auto it = requests_.find(ticket);
    if (it == requests_.end() || it->second.worker != worker_id) continue;
    PendingRequest& r = it->second;
    if (r.partials > 0) {  // the client holds part of the answer: a retry would repeat it
      Answer(ticket, Status(ErrorCode::kWorkerCrashed,
                            "worker " + worker_id + " died after " + std::to_string(r.partials) +
                                " partial replies; a half-streamed request is not retried: "
                                "send it again")
                         .WithRetryable(true));
    } else if (why == Departure::kLoadFailed && model != models_.end()) {
      Answer(ticket, {ErrorCode::kModelLoadFailed, model->second.load_error});
    } else if (++r.crashes >= 2) {
      Answer(ticket, {ErrorCode::kWorkerCrashed,
                      "the request was running on 2 workers that died; it is not retried again"});
    } else if (workers_.Usable(r.model) == 0 || model == models_.end()) {
      Answer(ticket, {ErrorCode::kWorkerCrashed, "worker " + worker_id +
                                                     " died running the request and no other "
                                                     "worker of the model is up"});
    } else {
      LogFields fields{{"request", r.id}, {"worker", worker_id}, {"model", r.model}};
      spdlog::info("retrying request {} of dead worker {} on a sibling", r.id, worker_id);
      Enqueue(r, /*front=*/true);
    }
  }
  if (model == models_.end()) return;
  if (why == Departure::kLoadFailed && workers_.Usable(gone->model) == 0) {
    FlushQueue(model->second, {ErrorCode::kModelLoadFailed, model->second.load_error});
  }
  Dispatch(gone->model);
}

Clock::duration Router::RunTimers(Clock::duration cap) {
  if (!unsent_.empty()) {
    RetryUnsent();
    if (!unsent_.empty()) cap = std::min<Clock::duration>(cap, kRetryUnsentEvery);
  }
  const auto now = clock_.Now();
  while (!deadlines_.empty() && deadlines_.top().first <= now) {
    const uint64_t ticket = deadlines_.top().second;
    deadlines_.pop();
    auto it = requests_.find(ticket);
    if (it == requests_.end()) continue;
    PendingRequest& r = it->second;
    const auto budget = std::chrono::duration_cast<std::chrono::milliseconds>(
        r.timeout.value_or(models_.at(r.model).policy.timeout));
    if (r.worker.empty()) {
      ModelQueue& q = models_.at(r.model);
      --q.live;
      if (q.tickets.size() > q.live + kCompactSlack) {
        std::erase_if(q.tickets, [&](uint64_t t) { return t == ticket || !requests_.contains(t); });
      }
      Answer(ticket, {ErrorCode::kDeadlineExceeded, "no worker took the request within " +
                                                        std::to_string(budget.count()) + " ms"});
    } else {
      // The worker stays busy until it answers; its late reply is dropped.
      overdue_[ticket] = {r.worker, now};
      Answer(ticket, {ErrorCode::kDeadlineExceeded,
                      "the model did not answer within " + std::to_string(budget.count()) + " ms"});
    }
  }
  if (deadlines_.empty()) return cap;
  return std::min<Clock::duration>(cap, deadlines_.top().first - now);
}

void Router::Answer(uint64_t ticket, Status status) {
  auto it = requests_.find(ticket);
  if (it == requests_.end()) return;
  if (observer_) observer_->OnAnswered(it->second, ErrorCodeName(status.code()), clock_.Now());
  SendFinal(
      it->second.client,
      zmq::message_t(codec::EncodeReply(protocol::ErrorReply(it->second.id, std::move(status)))));
  requests_.erase(it);
}

void Router::SendFinal(const std::string& client, zmq::message_t reply) {
  // Behind an earlier refused reply to this client, wait in line: its replies stay in order.
  const bool waiting = std::any_of(unsent_.begin(), unsent_.end(),
                                   [&client](const Unsent& u) { return u.client == client; });
  if (!waiting && outbox_.SendToClient(client, reply) != Delivery::kFull) return;
  unsent_.push_back({client, std::move(reply), clock_.Now() + kGiveUpUnsentAfter});
}

void Router::RetryUnsent() {
  const auto now = clock_.Now();
  std::erase_if(unsent_, [&](Unsent& u) {
    if (outbox_.SendToClient(u.client, u.reply) != Delivery::kFull) return true;
    if (now < u.give_up) return false;
    LogFields fields{{"client", u.client}};
    spdlog::warn("dropped a reply: its client read nothing for {} s", kGiveUpUnsentAfter.count());
    return true;
  });
}

void Router::Refuse(const std::string& model, const Status& status) {
  FlushQueue(models_.at(model), status);
}

void Router::FlushQueue(ModelQueue& queue, const Status& status) {
  for (uint64_t ticket : queue.tickets) {
    auto it = requests_.find(ticket);
    if (it != requests_.end() && it->second.worker.empty()) Answer(ticket, status);
  }
  queue.tickets.clear();
  queue.live = 0;
}

std::vector<std::string> Router::HungWorkers(Clock::duration grace) const {
  std::vector<std::string> hung;
  const auto now = clock_.Now();
  for (const auto& [ticket, overdue] : overdue_) {
    const auto& [worker, since] = overdue;
    if (now - since >= grace && std::find(hung.begin(), hung.end(), worker) == hung.end()) {
      hung.push_back(worker);
    }
  }
  return hung;
}

void Router::AnswerAll(const Status& status) {
  std::vector<uint64_t> tickets;
  for (const auto& [ticket, request] : requests_) tickets.push_back(ticket);
  for (uint64_t ticket : tickets) Answer(ticket, status);
  for (auto& [name, queue] : models_) {
    queue.tickets.clear();
    queue.live = 0;
  }
}

uint32_t Router::Queued(const std::string& model) const { return models_.at(model).live; }

const std::string& Router::LoadError(const std::string& model) const {
  return models_.at(model).load_error;
}

const ModelPolicy& Router::Policy(const std::string& model) const {
  return models_.at(model).policy;
}

bool Router::Drain(const std::string& worker_id) {
  WorkerRecord* worker = workers_.ById(worker_id);
  if (!worker) return false;
  worker->draining = true;
  return true;
}

void Router::Resume(const std::string& worker_id) {
  WorkerRecord* worker = workers_.ById(worker_id);
  if (!worker || !worker->draining) return;
  worker->draining = false;
  Dispatch(worker->model);
}

void Router::SetLoaded(const std::string& model, bool loaded) {
  ModelQueue& q = models_.at(model);
  q.unloaded = !loaded;
  if (q.unloaded) FlushQueue(q, UnloadedStatus(model));
}

std::vector<std::string> Router::Drained() const {
  std::vector<std::string> ids;
  for (const auto& [id, w] : workers_.all()) {
    if (w.draining && w.in_flight.empty()) ids.push_back(id);
  }
  return ids;
}

}  // namespace botmodels
