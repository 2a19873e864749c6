// Admin operations with real processes: graceful and forced restart, drain;
// load, unload and scale of a model.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "tests/broker_harness.h"
#include "tests/integration/test_models.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

using namespace std::chrono_literals;
using testing::BrokerHarness;

// One worker of the slow model, with one slow request running on it.
class OneBusyWorker : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteScriptModel(broker_.repository(), testing::Slow("max_inflight = 1\n"));
    ASSERT_NO_FATAL_FAILURE(broker_.Start(1));
    client_ = broker_.NewClient();
    iters_ = testing::CalibrateSlow(*client_, 1500ms);
    pid_ = broker_.Worker("slow-0").pid;
    client_->Send(testing::SlowRequest(iters_));
    ASSERT_TRUE(broker_.WaitStatus(
        [](const protocol::Reply& r) { return r.workers.at(0).in_flight == 1; }));
  }

  protocol::Reply Admin(protocol::Op op, bool force = false) {
    protocol::Request request;
    request.op = op;
    request.worker = "slow-0";
    request.force = force;
    auto reply = broker_.NewClient()->Call(request);
    EXPECT_OK(reply);
    return reply.ok() ? *reply : protocol::Reply{};
  }

  BrokerHarness broker_;
  std::unique_ptr<Client> client_;
  int64_t iters_ = 0;
  int64_t pid_ = 0;
};

TEST_F(OneBusyWorker, AGracefulRestartLetsTheRequestInFlightFinishFirst) {
  ASSERT_OK(Admin(protocol::Op::kRestart).status);
  // Draining: the running request finishes on the same process.
  auto reply = client_->Receive(30s);
  ASSERT_TRUE(reply);
  EXPECT_OK(reply->status);
  ASSERT_TRUE(broker_.WaitStatus([&](const protocol::Reply& r) {
    const auto& w = r.workers.at(0);
    return w.pid != 0 && w.pid != pid_ && w.state == protocol::WorkerStatus::kIdle &&
           w.restarts == 1;
  })) << broker_.log();
  EXPECT_NE(broker_.log().find("worker slow-0: draining before restart"), std::string::npos);
  auto after = client_->Call(testing::SlowRequest(1));
  ASSERT_OK(after);
  EXPECT_OK(after->status);
}

TEST_F(OneBusyWorker, AForcedRestartKillsAtOnceAndTheRequestIsSettledOnce) {
  const auto asked = std::chrono::steady_clock::now();
  ASSERT_OK(Admin(protocol::Op::kRestart, /*force=*/true).status);
  ASSERT_TRUE(broker_.WaitStatus([&](const protocol::Reply& r) {
    return r.workers.at(0).pid != pid_ && r.workers.at(0).restarts == 1;
  }));
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 1500ms) << "it waited for the request";
  // Retried on the restarted worker (the only one), or worker_crashed: one reply either way.
  auto reply = client_->Receive(30s);
  ASSERT_TRUE(reply);
  EXPECT_TRUE(reply->status.ok() || reply->status.code() == ErrorCode::kWorkerCrashed)
      << reply->status.ToString();
  EXPECT_FALSE(client_->Receive(500ms)) << "a second reply";
}

TEST_F(OneBusyWorker, ADrainedWorkerStaysStoppedUntilRestarted) {
  ASSERT_OK(Admin(protocol::Op::kDrain).status);
  auto reply = client_->Receive(30s);
  ASSERT_TRUE(reply);
  EXPECT_OK(reply->status);
  ASSERT_TRUE(broker_.WaitStatus([](const protocol::Reply& r) {
    return r.workers.at(0).state == protocol::WorkerStatus::kStopped && r.workers.at(0).pid == 0;
  })) << broker_.log();
  EXPECT_FALSE(testing::ProcessAlive(pid_));
  // Longer than the restart backoff: still stopped. A request waits in the queue.
  const std::string waiting = client_->Send(testing::SlowRequest(1));
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(broker_.Worker("slow-0").state, protocol::WorkerStatus::kStopped);
  ASSERT_OK(Admin(protocol::Op::kRestart).status);
  reply = client_->Receive(30s);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->id, waiting);
  EXPECT_OK(reply->status);
  EXPECT_NE(broker_.Worker("slow-0").pid, 0);
}

protocol::Reply ModelAdmin(const BrokerHarness& broker, protocol::Op op, const std::string& model,
                           uint32_t replicas = 0) {
  protocol::Request request;
  request.op = op;
  request.model = model;
  request.replicas = replicas;
  auto reply = broker.NewClient()->Call(request);
  EXPECT_OK(reply);
  return reply.ok() ? *reply : protocol::Reply{};
}

TEST(ModelAdmin, UnloadFinishesTheRunningRequestRefusesNewOnesAndLoadServesAgain) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::Slow());
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  auto client = broker.NewClient();
  const int64_t iters = testing::CalibrateSlow(*client, 1000ms);
  const std::string running = client->Send(testing::SlowRequest(iters));
  ASSERT_TRUE(
      broker.WaitStatus([](const protocol::Reply& r) { return r.workers.at(0).in_flight == 1; }));

  ASSERT_OK(ModelAdmin(broker, protocol::Op::kUnload, "slow").status);
  auto refused = client->Call(testing::SlowRequest(1));
  ASSERT_OK(refused);
  EXPECT_EQ(refused->status.code(), ErrorCode::kUnavailable);
  EXPECT_NE(refused->status.message().find("unloaded"), std::string::npos);
  auto reply = client->Receive(30s);  // the running one finishes
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->id, running);
  EXPECT_OK(reply->status);
  ASSERT_TRUE(broker.WaitStatus([](const protocol::Reply& r) {
    return r.workers.at(0).state == protocol::WorkerStatus::kStopped && r.workers.at(0).pid == 0;
  })) << broker.log();
  auto models = client->Models();
  ASSERT_OK(models);
  EXPECT_EQ(models->at(0).state, protocol::ModelStatus::kUnloaded);

  ASSERT_OK(ModelAdmin(broker, protocol::Op::kLoad, "slow").status);
  auto served = client->Call(testing::SlowRequest(1));
  ASSERT_OK(served);
  EXPECT_OK(served->status);
  EXPECT_NE(broker.Worker("slow-0").pid, 0);
}

TEST(ModelAdmin, ScaleStartsNewWorkersAndRemovesSurplusOnesAfterTheirRequests) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::Slow("max_inflight = 1\n"));
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  auto client = broker.NewClient();
  const int64_t iters = testing::CalibrateSlow(*client, 1000ms);

  ASSERT_OK(ModelAdmin(broker, protocol::Op::kScale, "slow", 3).status);
  ASSERT_TRUE(broker.WaitStatus([](const protocol::Reply& r) {
    std::set<std::string> idle;
    for (const auto& w : r.workers) {
      if (w.state == protocol::WorkerStatus::kIdle || w.state == protocol::WorkerStatus::kReady)
        idle.insert(w.id);
    }
    return idle == std::set<std::string>{"slow-0", "slow-1", "slow-2"};
  })) << broker.log();

  // One request on each worker, then scale down to 1 while they run.
  std::set<std::string> sent;
  for (int i = 0; i < 3; ++i) sent.insert(client->Send(testing::SlowRequest(iters)));
  ASSERT_TRUE(broker.WaitStatus([](const protocol::Reply& r) {
    int busy = 0;
    for (const auto& w : r.workers) busy += w.in_flight;
    return busy == 3;
  }));
  ASSERT_OK(ModelAdmin(broker, protocol::Op::kScale, "slow", 1).status);
  for (int i = 0; i < 3; ++i) {  // none is lost to the scale-down
    auto reply = client->Receive(30s);
    ASSERT_TRUE(reply);
    EXPECT_TRUE(sent.erase(*reply->id));
    EXPECT_OK(reply->status);
  }
  ASSERT_TRUE(broker.WaitStatus([](const protocol::Reply& r) {
    return r.workers.size() == 1 && r.workers.at(0).id == "slow-0";
  })) << broker.log();
  EXPECT_OK(client->Call(testing::SlowRequest(1)));

  auto unknown = broker.NewClient()->Call([] {
    protocol::Request request;
    request.op = protocol::Op::kScale;
    request.model = "nope";
    request.replicas = 2;
    return request;
  }());
  ASSERT_OK(unknown);
  EXPECT_EQ(unknown->status.code(), ErrorCode::kUnknownModel);
}

TEST(ModelAdmin, ReloadStartsAddedModelsRestartsChangedOnesAndLeavesTheRestAlone) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::CpuDouble());  // stays as it is
  WriteScriptModel(broker.repository(), testing::Slow());       // its model.toml changes
  WriteScriptModel(broker.repository(), testing::CpuMlp());     // is removed
  ASSERT_NO_FATAL_FAILURE(broker.Start(3));
  const int64_t double_pid = broker.Worker("double-0").pid;
  const int64_t slow_pid = broker.Worker("slow-0").pid;

  ScriptModel twice = testing::CpuDouble();  // is added
  twice.name = "twice";
  WriteScriptModel(broker.repository(), twice);
  testing::WriteFile(broker.repository() + "/slow/model.toml",
                     "queue_size = 7\n" + testing::Slow().toml);
  std::filesystem::remove_all(broker.repository() + "/mlp");
  protocol::Request reload;
  reload.op = protocol::Op::kReload;
  auto reply = broker.NewClient()->Call(reload);
  ASSERT_OK(reply);
  ASSERT_OK(reply->status);

  ASSERT_TRUE(broker.WaitStatus([&](const protocol::Reply& r) {
    std::map<std::string, int64_t> pids;
    for (const auto& w : r.workers) {
      if (w.state == protocol::WorkerStatus::kIdle || w.state == protocol::WorkerStatus::kReady)
        pids[w.id] = w.pid;
    }
    return pids.size() == 3 && pids.contains("twice-0") && pids.contains("slow-0") &&
           pids["slow-0"] != slow_pid && pids["double-0"] == double_pid;
  })) << broker.log();
  auto client = broker.NewClient();
  auto models = client->Models();
  ASSERT_OK(models);
  std::map<std::string, protocol::ModelInfo> by_name;
  for (const auto& m : *models) by_name[m.name] = m;
  EXPECT_FALSE(by_name.contains("mlp"));
  EXPECT_EQ(by_name["slow"].queue_size, 7u);
  EXPECT_OK(client->Infer("twice", {{"x", testing::Floats({1}, {2})}}));
  EXPECT_OK(client->Infer("double", {{"x", testing::Floats({1}, {2})}}));
  auto gone =
      client->Call(testing::InferRequest("mlp", {{"x", testing::RandomFloats({1, 512}, 1)}}));
  ASSERT_OK(gone);
  EXPECT_EQ(gone->status.code(), ErrorCode::kUnavailable);

  // A broken repository is refused, and nothing changes.
  testing::WriteFile(broker.repository() + "/twice/model.toml", "queue_size = \"x\"\n");
  auto refused = broker.NewClient()->Call(reload);
  ASSERT_OK(refused);
  EXPECT_EQ(refused->status.code(), ErrorCode::kInvalidRequest);
  EXPECT_NE(refused->status.message().find("twice/model.toml:1"), std::string::npos);
  EXPECT_OK(client->Infer("twice", {{"x", testing::Floats({1}, {2})}}));
}

protocol::ModelStatus StateOf(testing::BrokerHarness& broker, const std::string& model) {
  auto models = broker.NewClient()->Models();
  EXPECT_OK(models);
  for (const auto& m : models.ok() ? *models : std::vector<protocol::ModelInfo>{}) {
    if (m.name == model) return m.state;
  }
  return protocol::ModelStatus::kUnavailable;
}

TEST(IdleModels, AnIdleModelsWorkersStopAndItsNextRequestStartsThemAndIsServed) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::CpuDouble("idle_unload_s = 1\n"));
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  auto client = broker.NewClient();
  protocol::Request request;
  request.op = protocol::Op::kInfer;
  request.model = "double";
  request.inputs["x"] = testing::Floats({2}, {1, 2});
  auto first = client->Call(request);
  ASSERT_OK(first);
  ASSERT_OK(first->status);
  const int64_t pid = broker.Worker("double-0").pid;

  ASSERT_TRUE(broker.WaitStatus([](const protocol::Reply& r) {
    return r.workers.at(0).state == protocol::WorkerStatus::kEvicted && r.workers.at(0).pid == 0;
  })) << broker.log();
  EXPECT_EQ(StateOf(broker, "double"), protocol::ModelStatus::kEvicted);
  EXPECT_NE(broker.log().find("model double: no request for"), std::string::npos);
  httplib::Client http("127.0.0.1", broker.http_port());
  auto ready = http.Get("/readyz?model=double");  // a request brings it back
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200) << ready->body;
  const uint32_t restarts = broker.Worker("double-0").restarts;

  auto woken = client->Call(request);  // queues, starts the worker, waits for the load
  ASSERT_OK(woken);
  ASSERT_OK(woken->status);
  EXPECT_EQ(woken->outputs.at("y"), testing::Floats({2}, {2, 4}));
  const protocol::WorkerInfo worker = broker.Worker("double-0");
  EXPECT_NE(worker.pid, 0);
  EXPECT_NE(worker.pid, pid) << "a new process";
  EXPECT_EQ(worker.restarts, restarts + 1) << "started once more";
}

TEST(IdleModels, AModelWithARequestRunningIsNotEvicted) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::Slow("idle_unload_s = 0.3\n"));
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  auto client = broker.NewClient();
  const int64_t iters = testing::CalibrateSlow(*client, 1500ms);
  const int64_t pid = broker.Worker("slow-0").pid;
  const std::string running = client->Send(testing::SlowRequest(iters));
  std::this_thread::sleep_for(1000ms);  // idle_unload_s past the request's start, still running
  EXPECT_EQ(StateOf(broker, "slow"), protocol::ModelStatus::kReady);
  auto reply = client->Receive(30s);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->id, running);
  EXPECT_OK(reply->status);
  EXPECT_EQ(broker.Worker("slow-0").pid, pid) << "not stopped while it ran";
  // Then idle: evicted.
  ASSERT_TRUE(broker.WaitStatus([](const protocol::Reply& r) {
    return r.workers.at(0).state == protocol::WorkerStatus::kEvicted;
  })) << broker.log();
}

TEST(IdleModels, AnOperatorsLoadStartsAnEvictedModelAgain) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::CpuDouble("idle_unload_s = 5\n"));
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  ASSERT_TRUE(broker.WaitStatus([](const protocol::Reply& r) {
    return r.workers.at(0).state == protocol::WorkerStatus::kEvicted;
  })) << broker.log();
  ASSERT_OK(ModelAdmin(broker, protocol::Op::kLoad, "double").status);
  ASSERT_TRUE(broker.WaitStatus([](const protocol::Reply& r) {
    return r.workers.at(0).state == protocol::WorkerStatus::kIdle;  // up, loads on a request
  })) << broker.log();
  EXPECT_EQ(StateOf(broker, "double"), protocol::ModelStatus::kIdle)
      << "no longer evicted: idle_unload_s counts again from the load";
}

// Two CPU copies of the double model, "a" and "b", with room for one.
BrokerHarness::Options RoomForOne() {
  BrokerHarness::Options options;
  options.extra_config =
      "[devices.cpu]\nmax_resident_models = 1\n"
      "[supervisor]\nrestart_backoff_min_ms = 50\nrestart_backoff_max_ms = 200\n";
  return options;
}

void WriteTwoModels(const BrokerHarness& broker) {
  for (const char* name : {"a", "b"}) {
    ScriptModel model = testing::CpuDouble("queue_size = 256\n");
    model.name = name;
    WriteScriptModel(broker.repository(), model);
  }
}

protocol::Request Doubling(const std::string& model, float x) {
  protocol::Request request;
  request.op = protocol::Op::kInfer;
  request.model = model;
  request.inputs["x"] = testing::Floats({1}, {x});
  return request;
}

TEST(Residency, ARequestForAnEvictedModelEvictsTheIdleOneAndIsServed) {
  BrokerHarness broker(RoomForOne());
  WriteTwoModels(broker);
  ASSERT_NO_FATAL_FAILURE(broker.Start(2));
  EXPECT_EQ(StateOf(broker, "b"), protocol::ModelStatus::kEvicted) << "no room: b starts evicted";
  EXPECT_EQ(broker.Worker("b-0").pid, 0) << "its worker never started";
  auto client = broker.NewClient();

  auto a = client->Call(Doubling("a", 1));
  ASSERT_OK(a);
  ASSERT_OK(a->status);
  auto b = client->Call(Doubling("b", 3));  // a is idle: evicted, then b starts and loads
  ASSERT_OK(b);
  ASSERT_TRUE(b->status.ok()) << b->status.message() << "\n" << broker.log();
  EXPECT_EQ(b->outputs.at("y"), testing::Floats({1}, {6}));
  EXPECT_EQ(StateOf(broker, "a"), protocol::ModelStatus::kEvicted);
  EXPECT_NE(broker.log().find("model a: evicted from cpu to make room for b"), std::string::npos);

  auto status = client->Status();
  ASSERT_OK(status);
  ASSERT_EQ(status->devices.size(), 1u);
  EXPECT_EQ(status->devices[0].name, "cpu");
  EXPECT_EQ(status->devices[0].resident_models, 1u);
  EXPECT_EQ(status->devices[0].max_resident_models, 1u);
  httplib::Client http("127.0.0.1", broker.http_port());
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("botmodels_device_resident_models{device=\"cpu\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics->body.find("botmodels_model_evicted{model=\"a\"} 1"), std::string::npos);
}

TEST(Residency, AKillStormWithEvictionOnLosesNoRequest) {
  BrokerHarness broker(RoomForOne());
  WriteScriptModel(broker.repository(), testing::CpuDouble("queue_size = 256\n"));
  WriteScriptModel(broker.repository(), testing::Slow("queue_size = 256\n"));
  ASSERT_NO_FATAL_FAILURE(broker.Start(2));
  auto client = broker.NewClient();
  const int64_t iters = testing::CalibrateSlow(*client, 50ms);

  // Every 300 ms, SIGKILL to a worker that has loaded (serving, or being
  // evicted): each gets to serve a little, so that the requests progress.
  std::atomic<bool> storming{true};
  std::atomic<int> kills{0};
  std::thread killer([&] {
    auto status_client = broker.NewClient();
    std::mt19937 random(7);
    while (storming) {
      std::this_thread::sleep_for(300ms);
      auto status = status_client->Status();
      if (!status.ok() || !status->status.ok()) continue;
      std::vector<int64_t> pids;
      for (const auto& w : status->workers) {
        if (w.pid != 0 && (w.state == protocol::WorkerStatus::kReady || w.in_flight > 0)) {
          pids.push_back(w.pid);
        }
      }
      if (pids.empty()) continue;
      if (::kill(static_cast<pid_t>(pids[random() % pids.size()]), SIGKILL) == 0) ++kills;
    }
  });
  // Bursts to one model, then the other: every switch evicts one and
  // starts the other, while workers die under both.
  std::map<std::string, float> doubled;  // id → x, for the double model's requests
  std::map<std::string, protocol::Reply> replies;
  for (int round = 0; round < 8; ++round) {
    std::set<std::string> burst;
    for (int i = 0; i < 8; ++i) {
      const float x = static_cast<float>(round * 10 + i);
      const std::string id =
          client->Send(round % 2 ? Doubling("double", x) : testing::SlowRequest(iters));
      if (round % 2) doubled[id] = x;
      burst.insert(id);
    }
    while (!burst.empty()) {
      auto reply = client->Receive(60s);
      ASSERT_TRUE(reply) << "a request went unanswered\n" << broker.log();
      ASSERT_TRUE(reply->id && burst.erase(*reply->id)) << "an unknown or second reply";
      replies[*reply->id] = *reply;
    }
  }
  storming = false;
  killer.join();
  EXPECT_GT(kills.load(), 0);
  int ok = 0;
  for (const auto& [id, reply] : replies) {
    if (reply.status.ok()) {
      ++ok;
      if (doubled.contains(id)) {
        EXPECT_EQ(reply.outputs.at("y"), testing::Floats({1}, {doubled.at(id) * 2}));
      }
    } else {
      EXPECT_EQ(reply.status.code(), ErrorCode::kWorkerCrashed) << reply.status.message();
    }
  }
  EXPECT_EQ(replies.size(), 64u);
  // A request whose worker dies is run again once; it fails only when a
  // second worker dies under it.
  EXPECT_GT(ok, 32);
  // Both models serve again once the storm is over (a request may still
  // meet a worker killed last: worker_crashed, retryable, and tried again).
  for (const char* model : {"double", "slow", "double"}) {
    std::optional<protocol::Reply> reply;
    for (int attempt = 0; attempt < 3 && !(reply && reply->status.ok()); ++attempt) {
      auto call = client->Call(std::string(model) == "slow" ? testing::SlowRequest(1)
                                                            : Doubling("double", 5));
      ASSERT_OK(call);
      reply = *call;
      if (!reply->status.ok()) {
        ASSERT_TRUE(reply->retryable) << reply->status.message();
      }
    }
    EXPECT_TRUE(reply->status.ok()) << model << ": " << reply->status.message();
  }
}

TEST(Logs, JsonFormatWritesOneObjectPerLineFromBrokerAndWorkers) {
  BrokerHarness::Options options;
  options.broker_config = "log_format = \"json\"\n";
  BrokerHarness broker(options);
  WriteScriptModel(broker.repository(), testing::CpuDouble());
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  protocol::Request bad;
  bad.op = protocol::Op::kInfer;
  bad.model = "double";
  bad.inputs["wrong \"name\"\n"] = testing::Floats({1}, {1});  // quotes and a newline
  auto reply = broker.NewClient()->Call(bad);
  ASSERT_OK(reply);
  ASSERT_NO_FATAL_FAILURE(broker.Stop());

  std::istringstream log(broker.log());
  std::string line;
  std::set<std::string> processes;
  int lines = 0;
  bool registered_has_fields = false;
  while (std::getline(log, line)) {
    if (line.empty()) continue;
    ++lines;
    const auto event = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(event.is_object()) << "not one JSON object: " << line;
    for (const char* key : {"ts", "level", "process", "pid", "msg"}) {
      EXPECT_TRUE(event.contains(key)) << key << " missing in " << line;
    }
    processes.insert(event.value("process", ""));
    if (event.value("process", "") == "worker double-0") {
      // A worker names itself and its model in every event.
      EXPECT_EQ(event.value("worker", ""), "double-0") << line;
      EXPECT_EQ(event.value("model", ""), "double") << line;
    }
    if (event.value("msg", "").find("registered") != std::string::npos) {
      registered_has_fields =
          event.value("worker", "") == "double-0" && event.value("model", "") == "double";
    }
  }
  EXPECT_TRUE(registered_has_fields) << "the broker's registration event lacks worker and model";
  EXPECT_GT(lines, 5);
  EXPECT_TRUE(processes.contains("broker"));
  EXPECT_TRUE(processes.contains("worker double-0"));
}

}  // namespace
}  // namespace botmodels
