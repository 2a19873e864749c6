// Two brokers serving the same models: a client with both endpoints moves
// its unanswered requests to the second when the first is killed.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/process.hpp>
#include <chrono>
#include <map>
#include <set>

#include "tests/broker_harness.h"
#include "tests/integration/test_models.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

using namespace std::chrono_literals;
using testing::BrokerHarness;

constexpr char kSlowModel[] = "replicas = 2\nqueue_size = 256\n";

ClientOptions BothBrokers(const BrokerHarness& first, const BrokerHarness& second) {
  ClientOptions options = first.client_options();  // the same keys file for both
  options.failover_endpoints = {second.frontend()};
  return options;
}

TEST(Failover, KillingABrokerWithRequestsInFlightLosesNoneAndDeliversNoneTwice) {
  BrokerHarness first, second;
  WriteScriptModel(first.repository(), testing::Slow(kSlowModel));
  WriteScriptModel(second.repository(), testing::Slow(kSlowModel));
  ASSERT_NO_FATAL_FAILURE(first.Start(2));
  ASSERT_NO_FATAL_FAILURE(second.Start(2));
  Client client(BothBrokers(first, second));
  const int64_t iters = testing::CalibrateSlow(client, 20ms);
  ASSERT_EQ(client.endpoint(), first.frontend());

  std::set<std::string> ids;
  for (int i = 0; i < 64; ++i) ids.insert(client.Send(testing::SlowRequest(iters)));
  std::map<std::string, protocol::Reply> replies;
  while (replies.size() < 4) {  // the first broker serves a few, and holds the rest
    auto reply = client.Receive(30s);
    ASSERT_TRUE(reply && reply->id) << first.log();
    ASSERT_TRUE(replies.emplace(*reply->id, *reply).second);
  }
  const int64_t first_pid = first.pid();
  first.Stop(SIGKILL);
  ASSERT_FALSE(testing::ProcessAlive(first_pid));
  const auto killed = std::chrono::steady_clock::now();

  while (replies.size() < ids.size()) {
    auto reply = client.Receive(30s);
    ASSERT_TRUE(reply) << replies.size() << " of 64 answered\n" << second.log();
    ASSERT_TRUE(reply->id && ids.contains(*reply->id)) << "a reply to no request of ours";
    EXPECT_TRUE(replies.emplace(*reply->id, *reply).second) << "delivered twice: " << *reply->id;
  }
  const auto took = std::chrono::steady_clock::now() - killed;
  std::printf(
      "[ info ] the last of 64 requests answered %lld ms after the kill\n",
      static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
  for (const auto& [id, reply] : replies)
    EXPECT_TRUE(reply.status.ok()) << id << ": " << reply.status.message();
  EXPECT_EQ(client.failovers(), 1u);
  EXPECT_EQ(client.endpoint(), second.frontend());
  EXPECT_FALSE(client.Receive(300ms)) << "a late duplicate reached the caller";
  EXPECT_GT(second.Worker("slow-0").served + second.Worker("slow-1").served, 0u);

  // The first broker, restarted, takes load again.
  ASSERT_NO_FATAL_FAILURE(first.Start(2));
  Client fresh(BothBrokers(first, second));
  ASSERT_TRUE(fresh.Infer("slow", testing::SlowInputs(1)).ok());
  EXPECT_EQ(fresh.endpoint(), first.frontend());
  EXPECT_EQ(fresh.failovers(), 0u);
}

TEST(Failover, TheCliMovesOnFromADeadBrokerToTheNext) {
  BrokerHarness dead, alive;
  WriteScriptModel(dead.repository(), testing::CpuDouble());
  WriteScriptModel(alive.repository(), testing::CpuDouble());
  ASSERT_NO_FATAL_FAILURE(alive.Start(1));  // `dead` is never started: nothing listens there
  const auto run =
      testing::RunCli(alive, {"-e", dead.frontend() + "," + alive.frontend(), "models"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("double"), std::string::npos) << run.out;
}

// One worker, two brokers: it registers with both, serves both, keeps
// serving the one left when the other dies, and registers again with it
// when it is back.
TEST(Failover, ARemoteWorkerServesEveryBrokerItNamesAndRejoinsOneThatRestarts) {
  testing::TempDir dir;
  const BrokerHarness::Options options = BrokerHarness::RemoteWorkersOnly(dir / "worker.secret");
  BrokerHarness first(options), second(options);
  WriteScriptModel(first.repository(), testing::CpuDouble());
  WriteScriptModel(second.repository(), testing::CpuDouble());
  ASSERT_NO_FATAL_FAILURE(first.Start(0));
  ASSERT_NO_FATAL_FAILURE(second.Start(0));
  boost::process::child worker(
      "/usr/bin/env", "-u", "BOTMODELS_WORKER_SECRET",
      std::string(BOTMODELS_BIN_DIR) + "/botmodels-worker", "--broker",
      first.backend() + "," + second.backend(), "--id", "shared-0", "--repository",
      first.repository(), "--model", "double", "--heartbeat-ms", "200", "--liveness-ms", "1000",
      "--worker-secret-file", dir / "worker.secret",
      (boost::process::std_out & boost::process::std_err) > (dir / "worker.log"));
  const auto registered = [](const protocol::Reply& r) { return r.workers.size() == 1; };
  ASSERT_TRUE(first.WaitStatus(registered)) << testing::ReadFile(dir / "worker.log");
  ASSERT_TRUE(second.WaitStatus(registered)) << testing::ReadFile(dir / "worker.log");
  for (BrokerHarness* broker : {&first, &second}) {
    auto y = broker->NewClient()->Infer("double", {{"x", testing::Floats({1}, {4})}});
    ASSERT_OK(y);
    EXPECT_EQ(y->at("y"), testing::Floats({1}, {8}));
  }

  first.Stop(SIGKILL);
  Client client(BothBrokers(first, second));
  auto after = client.Infer("double", {{"x", testing::Floats({1}, {5})}});
  ASSERT_OK(after);
  EXPECT_EQ(after->at("y"), testing::Floats({1}, {10}));
  EXPECT_EQ(client.failovers(), 1u);

  ASSERT_NO_FATAL_FAILURE(first.Start(0));
  ASSERT_TRUE(first.WaitStatus(registered)) << "the worker did not register again";
  EXPECT_OK(first.NewClient()->Infer("double", {{"x", testing::Floats({1}, {6})}}));
  ::kill(worker.id(), SIGTERM);
  worker.wait();
}

}  // namespace
}  // namespace botmodels
