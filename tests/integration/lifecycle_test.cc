// Starting and stopping the broker: no orphans, no unanswered request, fail closed.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <thread>

#include "tests/broker_harness.h"
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

// Waits until the broker's log shows it has begun to stop.
bool Draining(const BrokerHarness& broker) {
  for (int tries = 0; tries < 1000; ++tries) {
    if (broker.log().find("broker stopping") != std::string::npos) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

// Three slow requests, one running and two queued, when SIGTERM comes.
class StopWithWork : public ::testing::Test {
 protected:
  void StartWithWork(BrokerHarness::Options options) {
    broker_.emplace(std::move(options));
    WriteScriptModel(broker_->repository(), testing::Slow("max_inflight = 1\n"));
    ASSERT_NO_FATAL_FAILURE(broker_->Start(1));
    client_ = broker_->NewClient();
    const int64_t iters = testing::CalibrateSlow(*client_, 500ms);
    for (int i = 0; i < 3; ++i) client_->Send(testing::SlowRequest(iters));
    for (int tries = 0; tries < 500; ++tries) {
      auto models = broker_->NewClient()->Models();
      if (models.ok() && models->at(0).queued == 2) break;
      std::this_thread::sleep_for(10ms);
    }
    stopper_ = std::thread([&] { exit_code_ = broker_->Stop(SIGTERM); });
    ASSERT_TRUE(Draining(*broker_)) << broker_->log();
  }
  void TearDown() override {
    if (stopper_.joinable()) stopper_.join();
  }

  std::optional<BrokerHarness> broker_;
  std::unique_ptr<Client> client_;
  std::thread stopper_;
  int exit_code_ = -1;
};

TEST_F(StopWithWork, AcceptedRequestsFinishAndNewOnesAreRefused) {
  ASSERT_NO_FATAL_FAILURE(StartWithWork({}));
  // A load balancer reading /readyz stops sending here; the loop still answers /healthz.
  httplib::Client http("127.0.0.1", broker_->http_port());
  bool unready = false;
  for (int i = 0; i < 100 && !unready; ++i) {
    auto readyz = http.Get("/readyz");
    unready = readyz && readyz->status == 503;
    if (!unready) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(unready) << "/readyz still passes while draining";
  auto healthz = http.Get("/healthz");
  ASSERT_TRUE(healthz);
  EXPECT_EQ(healthz->status, 200);
  auto late = broker_->NewClient();
  auto refused = late->Call(testing::SlowRequest(1));
  ASSERT_OK(refused);
  EXPECT_EQ(refused->status.code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(refused->retryable);
  for (int i = 0; i < 3; ++i) {
    auto reply = client_->Receive(30s);
    ASSERT_TRUE(reply.has_value()) << "request " << i << " went unanswered";
    EXPECT_TRUE(reply->status.ok())
        << "an accepted request was not allowed to finish: " << reply->status.ToString();
  }
  stopper_.join();
  EXPECT_EQ(exit_code_, 0);
}

TEST_F(StopWithWork, WhatOutlastsTheDrainTimeoutIsAnsweredUnavailable) {
  BrokerHarness::Options options;
  options.broker_config = "drain_timeout_ms = 100\n";
  ASSERT_NO_FATAL_FAILURE(StartWithWork(options));
  int unavailable = 0;
  for (int i = 0; i < 3; ++i) {
    auto reply = client_->Receive(30s);
    ASSERT_TRUE(reply.has_value()) << "request " << i << " went unanswered";
    unavailable += reply->status.code() == ErrorCode::kUnavailable && reply->retryable;
  }
  EXPECT_GE(unavailable, 2) << "the queued requests cannot finish in 100 ms";
  stopper_.join();
  EXPECT_EQ(exit_code_, 0);
}

TEST(Lifecycle, StoppingUnderLoadLosesNoAcceptedRequest) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::CpuDouble("replicas = 2\n"));
  ASSERT_NO_FATAL_FAILURE(broker.Start(2));
  auto client = broker.NewClient();
  constexpr int kWindow = 32;      // requests in flight
  constexpr int kStopAfter = 300;  // replies before SIGTERM
  std::vector<std::string> sent;
  std::map<std::string, protocol::Reply> replies;
  bool refused = false;  // the broker answered `unavailable`: it is draining
  while (true) {
    while (!refused && sent.size() - replies.size() < kWindow) {
      protocol::Request r;
      r.op = protocol::Op::kInfer;
      r.model = "double";
      r.inputs["x"] = testing::Floats({2}, {1, 2});
      sent.push_back(client->Send(r));
    }
    auto reply = client->Receive(3s);
    if (!reply) break;  // the broker has gone
    replies[*reply->id] = *reply;
    refused = refused || reply->status.code() == ErrorCode::kUnavailable;
    if (replies.size() == kStopAfter) ::kill(static_cast<pid_t>(broker.pid()), SIGTERM);
  }
  EXPECT_EQ(broker.Stop(), 0);
  // The broker reads one connection in order: every request sent before the
  // first refused one was accepted, and must have finished.
  size_t first_refused = sent.size();
  for (size_t i = 0; i < sent.size(); ++i) {
    auto it = replies.find(sent[i]);
    if (it != replies.end() && it->second.status.code() == ErrorCode::kUnavailable) {
      first_refused = std::min(first_refused, i);
    }
  }
  ASSERT_LT(first_refused, sent.size()) << "nothing was refused: the broker never drained";
  EXPECT_GE(first_refused, static_cast<size_t>(kStopAfter));
  for (size_t i = 0; i < first_refused; ++i) {
    ASSERT_TRUE(replies.contains(sent[i])) << "accepted request " << i << " was lost";
    EXPECT_TRUE(replies[sent[i]].status.ok())
        << "accepted request " << i << " failed: " << replies[sent[i]].status.ToString();
  }
  for (const auto& [id, reply] : replies) {
    EXPECT_TRUE(reply.status.ok() || reply.status.code() == ErrorCode::kUnavailable)
        << reply.status.ToString();
  }
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
  EXPECT_NE(out.find("has mode 0644, open to others or group-writable: run chmod 600"),
            std::string::npos)
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

// Every thread of the worker, libtorch's and the BLAS's included, runs only
// on the cores its model.toml names.
TEST(Placement, CpuAffinityPinsEveryThreadOfTheWorker) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::CpuMlp("cpu_affinity = [0]\npreload = true\n"));
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  EXPECT_OK(broker.NewClient()->Infer("mlp", {{"x", testing::RandomFloats({8, 512}, 1)}}));
  const int64_t pid = broker.Worker("mlp-0").pid;
  int threads = 0;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::ifstream status(task.path() / "status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("Cpus_allowed_list:", 0) == 0) {
        EXPECT_EQ(line, "Cpus_allowed_list:\t0") << "thread " << task.path().filename();
        ++threads;
      }
    }
  }
  EXPECT_GE(threads, 3);  // the I/O and executor threads, ZeroMQ's, libtorch's
}

// An explicit GPU the worker cannot reach is a broken deployment: it is
// reported, never served on the CPU behind the operator's back.
TEST(Placement, AnExplicitGpuTheWorkerCannotReachIsModelLoadFailedNamingIt) {
  BrokerHarness broker;
  ScriptModel model = testing::CpuDouble();
  model.toml.replace(model.toml.find("\"cpu\""), 5, "\"cuda:99\"");
  WriteScriptModel(broker.repository(), model);
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  EXPECT_EQ(broker.Worker("double-0").device, "cuda:99");
  const auto out = broker.NewClient()->Infer("double", {{"x", testing::Floats({1}, {1})}});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kModelLoadFailed);
  EXPECT_NE(out.status().message().find("device cuda:99: "), std::string::npos)
      << out.status().message();
}

}  // namespace
}  // namespace botmodels
