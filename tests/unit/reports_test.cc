// What `status` and `models` say of workers and models, on a fake clock and
// a fake launcher.
#include "broker/reports.h"

#include <gtest/gtest.h>

#include "tests/testutil.h"
#include "tests/unit/fake_launcher.h"
#include "tests/unit/recording_outbox.h"

namespace botmodels {
namespace {

using namespace std::chrono_literals;
using protocol::WorkerStatus;

std::vector<ModelConfig> ModelM() {
  ModelConfig m;
  m.name = "m";
  return {m};
}

class ReportsTest : public ::testing::Test {
 protected:
  ReportsTest() : supervisor_(clock_, launcher_, Options()), router_(clock_, outbox_, {{"m"}}) {}

  static SupervisorOptions Options() {
    SupervisorOptions o;
    o.backoff_min = 100ms;
    return o;
  }

  WorkerStatus StatusOf(const std::string& id) {
    for (const auto& w : StatusReport(supervisor_, router_).workers) {
      if (w.id == id) return w.state;
    }
    ADD_FAILURE() << id << " is not listed";
    return WorkerStatus::kStopped;
  }

  void Register(const std::string& id, protocol::ModelState state) {
    WorkerRecord w;
    w.id = id;
    w.identity = "ident-" + id;
    w.model = "m";
    w.pid = supervisor_.Find(id)->pid;
    w.last_heard = w.last_sent = clock_.Now();
    router_.OnRegister(std::move(w));
    router_.OnState(*router_.workers().ById(id), {state, "", 0});
  }

  testing::FakeClock clock_;
  testing::FakeLauncher launcher_;
  testing::RecordingOutbox outbox_;
  Supervisor supervisor_;
  Router router_;
};

TEST_F(ReportsTest, AWorkerIsStartingUntilItRegistersThenShowsItsModelsState) {
  supervisor_.Add({"m-0", "m", "cpu"});
  EXPECT_EQ(StatusOf("m-0"), WorkerStatus::kStarting) << "not started yet: starting, not backoff";
  supervisor_.Tick();
  EXPECT_EQ(StatusOf("m-0"), WorkerStatus::kStarting) << "started, not registered";
  Register("m-0", protocol::ModelState::kIdle);
  EXPECT_EQ(StatusOf("m-0"), WorkerStatus::kIdle);
  router_.OnState(*router_.workers().ById("m-0"), {protocol::ModelState::kLoading, "", 0});
  EXPECT_EQ(StatusOf("m-0"), WorkerStatus::kLoading);
  router_.OnState(*router_.workers().ById("m-0"), {protocol::ModelState::kReady, "", 5});
  EXPECT_EQ(StatusOf("m-0"), WorkerStatus::kReady);
  EXPECT_EQ(ModelsReport(ModelM(), router_).models.at(0).state, protocol::ModelStatus::kReady);
}

TEST_F(ReportsTest, AnEndedWorkerIsInBackoffAndAStoppedOneIsStopped) {
  supervisor_.Add({"m-0", "m", "cpu"});
  supervisor_.Add({"m-1", "m", "cpu"});
  supervisor_.Tick();
  launcher_.End(supervisor_.Find("m-0")->pid, {1, 0});
  supervisor_.Tick();
  EXPECT_EQ(StatusOf("m-0"), WorkerStatus::kBackoff);
  supervisor_.Stop("m-1");
  supervisor_.Tick();
  EXPECT_EQ(StatusOf("m-1"), WorkerStatus::kStopped);
}

TEST_F(ReportsTest, AModelWithoutWorkersIsUnavailableAndAnUnloadedOneUnloaded) {
  const std::vector<ModelConfig> models = ModelM();
  EXPECT_EQ(ModelsReport(models, router_).models.at(0).state, protocol::ModelStatus::kUnavailable);
  router_.SetLoaded("m", false);
  EXPECT_EQ(ModelsReport(models, router_).models.at(0).state, protocol::ModelStatus::kUnloaded);
}

}  // namespace
}  // namespace botmodels
