// Which models stay resident under a device's limits ([devices]): eviction
// order, what is never evicted, waiting for room and refusal past the
// budget. A fake clock and launcher under the real Router, Supervisor and
// Admin: the processes are the supervisor's fakes.
#include "broker/residency.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <set>

#include "broker/reports.h"
#include "broker/worker_plan.h"
#include "tests/testutil.h"
#include "tests/unit/fake_launcher.h"
#include "tests/unit/recording_outbox.h"

namespace botmodels {
namespace {

using namespace std::chrono_literals;

constexpr uint64_t kMiB = 1 << 20;

class ResidencyTest : public ::testing::Test {
 protected:
  ResidencyTest() : supervisor_(clock_, launcher_, {}) {}

  // Serves one CPU worker per model, each declaring `memory_mb` (0: none),
  // under `limits` for the CPU, and starts what the limits let run.
  void Start(const std::vector<std::pair<std::string, uint64_t>>& models, DeviceLimits limits) {
    std::vector<ModelConfig> configs;
    for (const auto& [name, memory_mb] : models) {
      ModelConfig m;
      m.name = name;
      m.devices = {"cpu"};
      m.memory_mb = memory_mb;
      configs.push_back(m);
    }
    Start(std::move(configs), {{"cpu", limits}});
  }

  void Start(std::vector<ModelConfig> models, std::map<std::string, DeviceLimits> limits) {
    models_ = std::move(models);
    std::vector<ModelPolicy> policies;
    for (const ModelConfig& m : models_) policies.push_back({m.name, 8, 1000ms});
    router_.emplace(clock_, outbox_, policies);
    admin_.emplace(*router_, supervisor_, models_, 0, 2, true);
    residency_.emplace(clock_, *router_, supervisor_, models_, std::move(limits));
    for (WorkerSpec& spec : PlanWorkers(models_, 0, 2)) supervisor_.Add(std::move(spec));
    residency_->Tick(*admin_);
    Turn();
  }

  // One turn of the broker's housekeeping: processes reaped and started.
  void Turn() {
    clock_.Advance(10ms);
    const std::vector<WorkerExit> exits = supervisor_.Tick();
    for (const WorkerExit& exit : exits) router_->OnWorkerGone(exit.id, Departure::kDied);
    admin_->Tick(exits);
    residency_->Tick(*admin_);
  }

  // A request for `model` arrives and is queued (no worker registers here).
  Status Request(const std::string& model) {
    if (Status s = residency_->OnRequest(model, *admin_); !s.ok()) return s;
    PendingRequest r;
    r.client = "client";
    r.id = model + std::to_string(++requests_);
    r.model = model;
    r.body = zmq::message_t(std::string_view("body"));
    router_->Submit(std::move(r));
    return {};
  }

  // A request for `model` that was served at once: it is recently used.
  void Used(const std::string& model) {
    ASSERT_OK(residency_->OnRequest(model, *admin_));
    clock_.Advance(10ms);
  }

  // Its (first) worker's process runs.
  bool Running(const std::string& model, int worker = 0) {
    return supervisor_.Find(model + "-" + std::to_string(worker))->pid != 0;
  }
  bool Evicted(const std::string& model) { return residency_->evicted().contains(model); }

  testing::FakeClock clock_;
  testing::FakeLauncher launcher_;
  testing::RecordingOutbox outbox_;
  Supervisor supervisor_;
  std::vector<ModelConfig> models_;
  std::optional<Router> router_;
  std::optional<Admin> admin_;
  std::optional<Residency> residency_;
  int requests_ = 0;
};

TEST_F(ResidencyTest, ModelsPastMaxResidentModelsStartEvictedTheLastConfiguredFirst) {
  Start({{"a", 0}, {"b", 0}, {"c", 0}}, {.max_resident_models = 2});
  EXPECT_TRUE(Running("a"));
  EXPECT_TRUE(Running("b"));
  EXPECT_FALSE(Running("c"));
  EXPECT_TRUE(Evicted("c"));
  EXPECT_EQ(launcher_.starts.size(), 2u) << "c's worker never started";
}

TEST_F(ResidencyTest, ARequestForAnEvictedModelEvictsTheLeastRecentlyUsedAndWaitsForItsExit) {
  Start({{"a", 0}, {"b", 0}, {"c", 0}}, {.max_resident_models = 2});
  Used("b");
  Used("a");  // b is now the least recently used
  ASSERT_OK(Request("c"));
  EXPECT_TRUE(Evicted("b"));
  EXPECT_FALSE(Evicted("a"));
  EXPECT_TRUE(Evicted("c")) << "waits until b's process has exited";
  Turn();  // b's process is reaped: room
  EXPECT_FALSE(Running("b"));
  EXPECT_FALSE(Evicted("c"));
  Turn();  // c's worker starts
  EXPECT_TRUE(Running("c"));
  EXPECT_TRUE(Running("a"));
  EXPECT_EQ(router_->Queued("c"), 1u) << "its request waits for the worker, not refused";
}

TEST_F(ResidencyTest, AModelWithRequestsIsNeverEvictedAndAWaitingModelWaitsForIt) {
  Start({{"a", 0}, {"b", 0}}, {.max_resident_models = 1});
  ASSERT_TRUE(Running("a"));
  ASSERT_OK(Request("a"));  // queued: a is busy
  for (int i = 0; i < 5; ++i) Turn();
  ASSERT_OK(Request("b"));  // 50 ms later
  for (int i = 0; i < 5; ++i) Turn();
  EXPECT_FALSE(Evicted("a")) << "a has a request queued";
  EXPECT_TRUE(Running("a"));
  EXPECT_TRUE(Evicted("b")) << "b waits for the room";

  clock_.Advance(920ms);  // a's request reaches its 1 s deadline and is answered; b's does not
  router_->RunTimers(1s);
  ASSERT_EQ(router_->Queued("a"), 0u);
  Turn();  // a is idle: evicted for b
  EXPECT_TRUE(Evicted("a"));
  Turn();
  Turn();
  EXPECT_FALSE(Evicted("b"));
  EXPECT_TRUE(Running("b"));
  EXPECT_FALSE(Running("a"));
}

TEST_F(ResidencyTest, TheMemoryBudgetEvictsOnlyWhatTheNewModelNeeds) {
  Start({{"a", 400}, {"b", 400}, {"c", 500}}, {.memory_budget_mb = 1000});
  EXPECT_TRUE(Evicted("c")) << "1300 MiB would not fit in 1000";
  Used("a");
  Used("b");
  ASSERT_OK(Request("c"));
  EXPECT_TRUE(Evicted("a")) << "least recently used";
  EXPECT_FALSE(Evicted("b")) << "400 + 500 fits in 1000: b stays";
  Turn();
  Turn();
  EXPECT_TRUE(Running("c"));
  EXPECT_TRUE(Running("b"));

  const protocol::Reply status = StatusReport(supervisor_, *router_, &*residency_);
  ASSERT_EQ(status.devices.size(), 1u);
  EXPECT_EQ(status.devices[0].name, "cpu");
  EXPECT_EQ(status.devices[0].resident_models, 2u);
  EXPECT_EQ(status.devices[0].memory_used_bytes, 900 * kMiB);
  EXPECT_EQ(status.devices[0].memory_budget_bytes, 1000 * kMiB);
}

TEST_F(ResidencyTest, AModelPastTheBudgetIsRefusedOutOfMemoryNamingTheBudget) {
  Start({{"a", 400}, {"big", 1500}}, {.memory_budget_mb = 1000});
  EXPECT_TRUE(Evicted("big"));
  EXPECT_TRUE(Running("a"));
  const Status refused = Request("big");
  EXPECT_EQ(refused.code(), ErrorCode::kOutOfMemory);
  EXPECT_NE(refused.message().find("model big needs 1500 MiB on cpu"), std::string::npos)
      << refused.message();
  EXPECT_NE(refused.message().find("memory_budget_mb of 1000"), std::string::npos)
      << refused.message();
  EXPECT_FALSE(Evicted("a")) << "nothing evicted for a model that cannot fit";
  EXPECT_EQ(router_->Queued("big"), 0u);
}

TEST_F(ResidencyTest, AnUndeclaredModelIsBudgetedAtWhatItsWorkersReported) {
  Start({{"a", 0}, {"b", 0}}, {.memory_budget_mb = 1000});
  WorkerRecord w;
  w.id = "a-0";
  w.identity = "ident-a-0";
  w.model = "a";
  w.device = "cpu";
  w.pid = supervisor_.Find("a-0")->pid;
  w.memory.rss_bytes = 700 * kMiB;
  router_->OnRegister(std::move(w));
  Turn();
  EXPECT_EQ(residency_->Footprint("a"), 700 * kMiB);
  EXPECT_EQ(ModelsReport(models_, *router_, &*residency_).models.at(0).memory_bytes, 700 * kMiB);
  EXPECT_EQ(residency_->Footprint("b"), 0u) << "unknown until it reports";
  EXPECT_FALSE(Evicted("a"));
  EXPECT_FALSE(Evicted("b"));

  router_->workers().ById("a-0")->memory.rss_bytes = 1200 * kMiB;  // past the budget alone
  Turn();
  EXPECT_EQ(residency_->Footprint("a"), 1200 * kMiB);
  EXPECT_TRUE(Evicted("a")) << "the device was past its budget";
  EXPECT_EQ(Request("a").code(), ErrorCode::kOutOfMemory);
}

TEST_F(ResidencyTest, AModelOnTwoDevicesGoesWhereItFitsWhileTheOtherIsBusy) {
  ModelConfig a, b;
  a.name = "a";
  a.devices = {"cuda:0"};
  b.name = "b";
  b.devices = {"cuda:0", "cuda:1"};  // b-0 on cuda:0, b-1 on cuda:1
  Start({a, b}, {{"cuda", {.max_resident_models = 1}}});
  ASSERT_TRUE(Evicted("b")) << "no room beside a on cuda:0";
  ASSERT_OK(Request("a"));  // a is busy: it keeps cuda:0
  ASSERT_OK(Request("b"));
  Turn();
  EXPECT_FALSE(Evicted("b"));
  EXPECT_TRUE(Running("b", 1)) << "started on cuda:1, where it fits";
  EXPECT_FALSE(Running("b", 0));
  EXPECT_TRUE(Running("a"));
  EXPECT_EQ(residency_->parked(), std::set<std::string>{"b-0"});
  const auto workers = StatusReport(supervisor_, *router_, &*residency_).workers;
  const auto b0 = std::find_if(workers.begin(), workers.end(),
                               [](const protocol::WorkerInfo& w) { return w.id == "b-0"; });
  ASSERT_NE(b0, workers.end());
  EXPECT_EQ(b0->state, protocol::WorkerStatus::kEvicted);
}

TEST_F(ResidencyTest, WithoutLimitsNothingIsEvicted) {
  Start({{"a", 4000}, {"b", 4000}}, {});
  for (int i = 0; i < 3; ++i) Turn();
  EXPECT_TRUE(residency_->evicted().empty());
  EXPECT_TRUE(Running("a"));
  EXPECT_TRUE(Running("b"));
}

// Idle unloading stops a worker; a request that comes before its process
// has exited wakes the model without handing the request to that process.
TEST_F(ResidencyTest, ARequestWhileAnEvictedWorkerExitsWaitsForItsSuccessor) {
  ModelConfig m;
  m.name = "a";
  m.devices = {"cpu"};
  m.idle_unload = 1s;
  launcher_.fatal_signals = {SIGKILL};  // SIGTERM alone: a process slow to exit
  Start({m}, {});
  WorkerRecord w;
  w.id = "a-0";
  w.identity = "ident-a-0";
  w.model = "a";
  w.capacity = 1;
  w.pid = supervisor_.Find("a-0")->pid;
  w.last_heard = w.last_sent = clock_.Now();
  router_->OnRegister(std::move(w));
  const int64_t old_pid = supervisor_.Find("a-0")->pid;
  clock_.Advance(2s);
  Turn();  // idle: drained at once, then stopped
  Turn();
  ASSERT_TRUE(Evicted("a"));
  ASSERT_TRUE(launcher_.Running(old_pid)) << "its process has not exited yet";
  ASSERT_OK(Request("a"));
  EXPECT_TRUE(outbox_.to_workers.empty()) << "the request went to a process on its way out";
  Turn();  // the old process is killed and reaped; its successor starts
  Turn();
  EXPECT_FALSE(launcher_.Running(old_pid));
  EXPECT_TRUE(Running("a"));
  EXPECT_NE(supervisor_.Find("a-0")->pid, old_pid);
  EXPECT_EQ(router_->Queued("a"), 1u) << "it waits for the new worker";
}

}  // namespace
}  // namespace botmodels
