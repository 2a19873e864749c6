#include "worker/shared_link.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <variant>

#include "common/exit_codes.h"
#include "common/process_info.h"

namespace botmodels {
namespace {

// How often a worker reports its memory: fresh enough for `status` and a
// Prometheus scrape (15 s is usual); a report costs ~20 µs.
constexpr std::chrono::seconds kMemoryReportEvery{2};

}  // namespace

SharedLink::SharedLink(std::vector<BrokerLink*> links, const ModelBackend& backend,
                       const Clock& clock)
    : links_(std::move(links)), backend_(backend), clock_(clock) {
  for (BrokerLink* link : links_)
    poll_items_.push_back({link->socket().handle(), 0, ZMQ_POLLIN, 0});
}

std::vector<Job> SharedLink::Receive(std::chrono::milliseconds wait) {
  std::vector<Job> jobs;
  std::lock_guard lock(mutex_);
  const std::chrono::milliseconds tick = Housekeeping();
  jobs.swap(received_);
  // With work due (wait 0), reading what is there is enough: a poll would
  // only add a system call per batch.
  if (jobs.empty() && wait.count() > 0) {
    for (size_t i = 0; i < links_.size(); ++i) {
      poll_items_[i].socket = links_[i]->socket().handle();  // a reconnect makes a new socket
    }
    try {
      zmq::poll(poll_items_.data(), poll_items_.size(), std::min(wait, tick));
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) return jobs;
      throw;
    }
  }
  Drain(jobs);
  return jobs;
}

void SharedLink::Deliver(WorkerResult result) {
  std::lock_guard lock(mutex_);
  if (auto* reply = std::get_if<JobReply>(&result)) {
    links_.at(reply->link)->Send(std::move(*reply));
  } else if (auto* change = std::get_if<StateChange>(&result)) {
    for (BrokerLink* link : links_) link->Send(*change);
    const protocol::ModelState state = change->state.state;
    if (state == protocol::ModelState::kReady) loaded_ = true;
    if (state == protocol::ModelState::kFailed) exit_code_ = exit_code_.value_or(kExitLoadFailed);
  } else if (auto* credit = std::get_if<CreditChange>(&result)) {
    for (BrokerLink* link : links_) link->Send(*credit);
  } else if (auto* lost = std::get_if<DeviceLost>(&result)) {
    spdlog::critical("{}: exiting, so that a fresh process serves", lost->reason);
    exit_code_ = kExitDeviceLost;
  }
}

void SharedLink::Pulse() {
  std::unique_lock lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return;  // the serving thread is at the socket and keeps it
  Housekeeping();
  Drain(received_);
}

std::chrono::milliseconds SharedLink::Housekeeping() {
  const auto now = clock_.Now();
  if (now >= next_report_) {
    // The GPU is read only once the model is loaded: CUDA initialises its
    // allocator during the load, and reading it meanwhile would race.
    const DeviceMemory gpu = loaded_ ? backend_.Memory() : DeviceMemory{};
    const protocol::WorkerMemory memory{
        static_cast<uint64_t>(std::max<int64_t>(0, RssBytes(getpid()))), gpu.allocated_bytes,
        gpu.reserved_bytes};
    for (BrokerLink* link : links_) link->Send(memory);
    next_report_ = now + kMemoryReportEvery;
  }
  auto due = std::chrono::ceil<std::chrono::milliseconds>(next_report_ - now);
  for (BrokerLink* link : links_) due = std::min(due, link->Tick());
  return due;
}

void SharedLink::Drain(std::vector<Job>& jobs) {
  for (uint32_t i = 0; i < links_.size(); ++i) {
    while (links_[i]->socket().get(zmq::sockopt::events) & ZMQ_POLLIN) {
      if (auto job = links_[i]->Receive()) {
        job->link = i;
        jobs.push_back(std::move(*job));
      }
    }
  }
}

}  // namespace botmodels
