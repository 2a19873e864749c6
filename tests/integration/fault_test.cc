// Workers that crash, hang, run long, run out of memory or cannot load.
#include <gtest/gtest.h>
#include <signal.h>

#include <set>
#include <thread>

#include "tests/broker_harness.h"
#include "tests/integration/test_models.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

using namespace std::chrono_literals;
using testing::BrokerHarness;

using testing::SlowRequest;

// Waits for every id in `ids` to get one reply; returns them by id.
std::map<std::string, protocol::Reply> CollectReplies(Client& client,
                                                      const std::set<std::string>& ids) {
  std::map<std::string, protocol::Reply> replies;
  while (replies.size() < ids.size()) {
    auto reply = client.Receive(60s);
    if (!reply) break;
    EXPECT_TRUE(reply->id && ids.contains(*reply->id)) << "reply to an unknown request";
    EXPECT_TRUE(replies.emplace(reply->id.value_or(""), *reply).second) << "second reply";
  }
  return replies;
}

TEST(Faults, KillingAWorkerWithRequestsInFlightLosesNone) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::Slow("replicas = 2\nqueue_size = 200\n"));
  ASSERT_NO_FATAL_FAILURE(broker.Start(2));
  auto client = broker.NewClient();
  const int64_t iters = testing::CalibrateSlow(*client, 20ms);

  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) ids.insert(client->Send(SlowRequest(iters)));
  protocol::WorkerInfo victim;
  ASSERT_TRUE(broker.WaitStatus([&](const protocol::Reply& r) {
    for (const auto& w : r.workers) {
      if (w.id == "slow-0" && w.in_flight > 0) victim = w;
    }
    return victim.in_flight > 0;
  }));
  ASSERT_EQ(::kill(static_cast<pid_t>(victim.pid), SIGKILL), 0);

  const auto replies = CollectReplies(*client, ids);
  ASSERT_EQ(replies.size(), 100u) << broker.log();
  int ok = 0;
  for (const auto& [id, reply] : replies) {
    if (reply.status.ok()) {
      ++ok;
    } else {
      EXPECT_EQ(reply.status.code(), ErrorCode::kWorkerCrashed) << reply.status.message();
    }
  }
  EXPECT_GE(ok, 98) << "in-flight requests of the dead worker are retried on its sibling";

  ASSERT_TRUE(broker.WaitStatus([&](const protocol::Reply& r) {
    for (const auto& w : r.workers) {
      if (w.id == "slow-0")
        return w.restarts == 1 && w.pid != victim.pid &&
               w.state != protocol::WorkerStatus::kStarting;
    }
    return false;
  })) << broker.log();
  EXPECT_EQ(broker.Worker("slow-0").last_exit, "killed by signal 9 (SIGKILL)");
  // The restarted worker serves again.
  for (int round = 0; round < 20 && broker.Worker("slow-0").served == 0; ++round) {
    std::set<std::string> more;
    for (int i = 0; i < 4; ++i) more.insert(client->Send(SlowRequest(iters)));
    for (const auto& [id, reply] : CollectReplies(*client, more)) EXPECT_OK(reply.status);
  }
  EXPECT_GT(broker.Worker("slow-0").served, 0u);
}

TEST(Faults, ASilentWorkerIsDeclaredDeadAndItsRequestGoesToASibling) {
  BrokerHarness broker;  // liveness 1 s
  WriteScriptModel(broker.repository(), testing::Slow("replicas = 2\nmax_inflight = 1\n"));
  ASSERT_NO_FATAL_FAILURE(broker.Start(2));
  auto client = broker.NewClient();
  const int64_t iters = testing::CalibrateSlow(*client, 300ms);
  const auto frozen = broker.Worker("slow-0");
  ASSERT_EQ(::kill(static_cast<pid_t>(frozen.pid), SIGSTOP), 0);  // hangs, socket open

  std::set<std::string> ids{client->Send(SlowRequest(iters)), client->Send(SlowRequest(iters))};
  const auto replies = CollectReplies(*client, ids);
  ASSERT_EQ(replies.size(), 2u);
  for (const auto& [id, reply] : replies) EXPECT_OK(reply.status);
  ASSERT_TRUE(broker.WaitStatus([&](const protocol::Reply& r) {
    for (const auto& w : r.workers) {
      if (w.id == "slow-0") return w.restarts == 1;
    }
    return false;
  })) << broker.log();
  EXPECT_FALSE(testing::ProcessAlive(frozen.pid)) << "the hung process was killed";
  EXPECT_NE(broker.log().find("worker slow-0 silent"), std::string::npos);
}

TEST(Faults, AForwardLongerThanTheLivenessWindowIsNotMistakenForDeath) {
  BrokerHarness broker;  // liveness 1 s: the worker heartbeats while it computes
  WriteScriptModel(broker.repository(), testing::Slow());
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  auto client = broker.NewClient();
  // Aim well past the 1 s window: calibration is rough on a loaded machine.
  const int64_t iters = testing::CalibrateSlow(*client, 3000ms);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_OK(client->Infer("slow", testing::SlowInputs(iters)));
  EXPECT_GT(std::chrono::steady_clock::now() - start, 1200ms)
      << "the forward did not outlast the liveness window";
  EXPECT_EQ(broker.Worker("slow-0").restarts, 0u);
}

TEST(Faults, AWorkerStuckPastADeadlineIsKilledAndRestarted) {
  BrokerHarness::Options options;
  options.extra_config = "[supervisor]\nhung_after_ms = 500\nrestart_backoff_min_ms = 100\n";
  BrokerHarness broker(options);
  WriteScriptModel(broker.repository(), testing::Slow());
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  auto client = broker.NewClient();
  const int64_t iters = testing::CalibrateSlow(*client, 20s);  // "stuck" for our purpose
  const int64_t pid = broker.Worker("slow-0").pid;
  auto out = client->Call(SlowRequest(iters, 200));
  ASSERT_OK(out);
  EXPECT_EQ(out->status.code(), ErrorCode::kDeadlineExceeded);
  ASSERT_TRUE(broker.WaitStatus([&](const protocol::Reply& r) {
    return r.workers.at(0).restarts == 1 &&
           r.workers.at(0).state != protocol::WorkerStatus::kStarting;
  })) << broker.log();
  EXPECT_FALSE(testing::ProcessAlive(pid));
  EXPECT_NE(broker.log().find("past its deadline: hung"), std::string::npos);
  EXPECT_OK(client->Infer("slow", testing::SlowInputs(1)));  // the new process serves
}

TEST(Faults, ARequestOverTheMemoryLimitIsOutOfMemoryAndTheSameWorkerServesOn) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::CpuDouble("memory_limit_mb = 4\n"));
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  auto client = broker.NewClient();
  const int64_t pid = broker.Worker("double-0").pid;
  auto big =
      client->Infer("double", {{"x", testing::Floats({2 << 20}, std::vector<float>(2 << 20))}});
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), ErrorCode::kOutOfMemory) << big.status().message();
  auto small = client->Infer("double", {{"x", testing::Floats({2}, {1, 2})}});
  ASSERT_OK(small);
  EXPECT_EQ(testing::ToFloats(small->at("y")), (std::vector<float>{2, 4}));
  const auto worker = broker.Worker("double-0");
  EXPECT_EQ(worker.pid, pid);
  EXPECT_EQ(worker.restarts, 0u);
}

TEST(Faults, AModelThatCannotLoadIsReportedWithoutACrashLoop) {
  BrokerHarness::Options options;
  options.extra_config = "[supervisor]\nrestart_backoff_min_ms = 200\n";
  BrokerHarness broker(options);
  WriteScriptModel(broker.repository(), testing::CpuDouble());
  testing::WriteFile(broker.repository() + "/double/model.pt", "not a model");
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  auto client = broker.NewClient();
  auto out = client->Infer("double", {{"x", testing::Floats({1}, {1})}});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kModelLoadFailed);
  EXPECT_NE(out.status().message().find("model.pt"), std::string::npos) << out.status().message();

  // Later requests fail fast with the same reason while the supervisor backs off.
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(client->Infer("double", {{"x", testing::Floats({1}, {1})}}).status().code(),
              ErrorCode::kModelLoadFailed);
  }
  std::this_thread::sleep_for(2s);
  const auto worker = broker.Worker("double-0");
  EXPECT_GE(worker.restarts, 1u);
  EXPECT_LE(worker.restarts, 5u) << "backoff 200, 400, 800 ms: no fast crash loop";
  EXPECT_NE(worker.last_exit.find("model load failed"), std::string::npos) << worker.last_exit;
  auto models = client->Models();
  ASSERT_OK(models);
  EXPECT_NE(models->at(0).last_error.find("model.pt"), std::string::npos);
}

// A CUDA fault poisons the process's CUDA context, and CUDA reports it late
// (maybe on another request): the worker exits, its requests are settled as
// for a crash, and a fresh process serves.
TEST(Faults, ACudaFaultReplacesTheWorkerProcessAndTheNextRequestIsServed) {
  BrokerHarness::Options options;
  options.extra_config = "[supervisor]\nrestart_backoff_min_ms = 50\n";
  BrokerHarness broker(options);
  WriteScriptModel(broker.repository(), testing::CudaFault());
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  auto client = broker.NewClient();
  ASSERT_OK(client->Infer("faulty", {{"x", testing::Floats({1}, {1})}}));
  const int64_t first_pid = broker.Worker("faulty-0").pid;

  // No sibling to retry it on: answered at once.
  auto poisoned = client->Infer("faulty", {{"x", testing::Floats({1}, {-1})}});
  ASSERT_FALSE(poisoned.ok());
  EXPECT_EQ(poisoned.status().code(), ErrorCode::kWorkerCrashed) << poisoned.status().message();

  auto next = client->Infer("faulty", {{"x", testing::Floats({2}, {1, 2})}});
  ASSERT_OK(next);
  EXPECT_EQ(testing::ToFloats(next->at("y")), (std::vector<float>{2, 4}));
  const auto worker = broker.Worker("faulty-0");
  EXPECT_NE(worker.pid, first_pid);
  EXPECT_EQ(worker.restarts, 1u);
  EXPECT_EQ(worker.last_exit, "exit code 75 (device lost)");
  EXPECT_NE(broker.log().find("CUDA error: an illegal memory access was encountered: exiting"),
            std::string::npos)
      << broker.log();
}

}  // namespace
}  // namespace botmodels
