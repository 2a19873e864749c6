// Starting and stopping the broker: no orphans, no unanswered request, fail closed.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <thread>

#include "tests/integration/test_models.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

using namespace std::chrono_literals;
using testing::BrokerHarness;

std::vector<int64_t> WorkerPids(BrokerHarness& broker) {
  std::vector<int64_t> pids;
  auto status = broker.NewClient()->Status();
  EXPECT_TRUE(status.ok());
  if (status.ok()) {
    for (const auto& w : status->workers) pids.push_back(w.pid);
  }
  return pids;
}

bool AllGone(const std::vector<int64_t>& pids, std::chrono::milliseconds within) {
  const auto until = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < until) {
    if (std::none_of(pids.begin(), pids.end(), testing::ProcessAlive)) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

TEST(Lifecycle, SigtermStopsTheBrokerAndEveryWorker) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::CpuDouble("replicas = 2\n"));
  WriteScriptModel(broker.repository(), testing::CpuMlp());
  ASSERT_NO_FATAL_FAILURE(broker.Start(3));
  const auto pids = WorkerPids(broker);
  ASSERT_EQ(pids.size(), 3u);
  EXPECT_EQ(broker.Stop(SIGTERM), 0);
  EXPECT_TRUE(AllGone(pids, 1s)) << "a worker outlived its broker";
  EXPECT_NE(broker.log().find("broker stopped"), std::string::npos);
}

TEST(Lifecycle, WorkersDieWithABrokerThatIsKilled) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::CpuDouble("replicas = 2\n"));
  ASSERT_NO_FATAL_FAILURE(broker.Start(2));
  const auto pids = WorkerPids(broker);
  ASSERT_EQ(pids.size(), 2u);
  broker.Stop(SIGKILL);
  EXPECT_TRUE(AllGone(pids, 5s)) << "orphan workers survived (PR_SET_PDEATHSIG)";
}

TEST(Lifecycle, PendingRequestsAreAnsweredWhenTheBrokerStops) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::Slow("max_inflight = 1\n"));
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  auto client = broker.NewClient();
  const int64_t iters = testing::CalibrateSlow(*client, 2000ms);
  for (int i = 0; i < 3; ++i) client->Send(testing::SlowRequest(iters));  // one runs, two wait
  for (int tries = 0; tries < 500; ++tries) {
    auto models = broker.NewClient()->Models();
    if (models.ok() && models->at(0).queued == 2) break;
    std::this_thread::sleep_for(10ms);
  }
  std::thread stopper([&] { broker.Stop(SIGTERM); });
  for (int i = 0; i < 3; ++i) {
    auto reply = client->Receive(10s);
    ASSERT_TRUE(reply.has_value()) << "request " << i << " went unanswered";
    EXPECT_EQ(reply->status.code(), ErrorCode::kUnavailable);
    EXPECT_TRUE(reply->retryable);
  }
  stopper.join();
}

// Runs botmodels-broker --check on `config` and returns its output; the exit
// code goes to *rc.
std::string CheckConfig(const testing::TempDir& dir, const std::string& config, int* rc) {
  testing::WriteFile(dir / "b.toml", config);
  const std::string cmd = std::string(BOTMODELS_BIN_DIR) + "/botmodels-broker --check --config " +
                          (dir / "b.toml") + " > " + (dir / "out") + " 2>&1";
  *rc = std::system(cmd.c_str());
  return testing::ReadFile(dir / "out");
}

TEST(Lifecycle, TheBrokerRefusesToStartWithoutKeys) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::CpuDouble());
  testing::TempDir dir;
  int rc = 0;
  const std::string out =
      CheckConfig(dir,
                  "[auth]\nkeys_file = \"missing.toml\"\n[models]\nrepository = \"" +
                      broker.repository() + "\"\n",
                  &rc);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("cannot read " + (dir / "missing.toml")), std::string::npos) << out;
}

TEST(Lifecycle, TheBrokerRefusesAKeysFileOthersCanRead) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::CpuDouble());
  testing::TempDir dir;
  testing::WriteFile(dir / "keys.toml", std::string("[[key]]\nid = \"a\"\nrole = \"admin\"\n") +
                                            "secret = \"" + testing::kTestSecret + "\"\n");
  std::filesystem::permissions(dir / "keys.toml", std::filesystem::perms(0644));
  int rc = 0;
  const std::string config =
      "[auth]\nkeys_file = \"keys.toml\"\n[models]\nrepository = \"" + broker.repository() + "\"\n";
  std::string out = CheckConfig(dir, config, &rc);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("has mode 0644, open to group or others: run chmod 600"), std::string::npos)
      << out;
  EXPECT_EQ(out.find(testing::kTestSecret), std::string::npos) << out;

  std::filesystem::permissions(dir / "keys.toml", std::filesystem::perms(0600));
  out = CheckConfig(dir, config, &rc);
  EXPECT_EQ(rc, 0) << out;
}

TEST(Lifecycle, AWorkerThatNeverRegistersIsKilledAndRestarted) {
  testing::TempDir dir;
  const std::string hung = dir / "hung-worker";
  testing::WriteFile(hung, "#!/bin/sh\nexec sleep 600\n");  // starts, never registers
  std::filesystem::permissions(hung, std::filesystem::perms::owner_all);
  BrokerHarness::Options options;
  options.extra_config = "[supervisor]\nworker_binary = \"" + hung +
                         "\"\nregister_timeout_ms = 300\nrestart_backoff_min_ms = 100\n";
  BrokerHarness broker(options);
  WriteScriptModel(broker.repository(), testing::CpuDouble());
  ASSERT_NO_FATAL_FAILURE(broker.Start(0));
  int64_t first_pid = 0;
  ASSERT_TRUE(broker.WaitStatus([&](const protocol::Reply& r) {
    first_pid = first_pid ? first_pid : r.workers.at(0).pid;
    return r.workers.at(0).restarts >= 1;
  })) << broker.log();
  EXPECT_EQ(broker.Worker("double-0").last_exit, "killed by signal 9 (SIGKILL)");
  EXPECT_FALSE(testing::ProcessAlive(first_pid));
  EXPECT_NE(broker.log().find("has not registered"), std::string::npos);
}

}  // namespace
}  // namespace botmodels
