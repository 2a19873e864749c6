// The broker's liveness and hang policy on a fake clock, with a real Router
// and Supervisor over a fake launcher: no processes, no sleeps.
#include "broker/liveness.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>

#include "tests/testutil.h"
#include "tests/unit/fake_launcher.h"
#include "tests/unit/recording_outbox.h"

namespace botmodels {
namespace {

using namespace std::chrono_literals;

constexpr LivenessOptions kOptions{1000ms, 2000ms, 3000ms};

class LivenessTest : public ::testing::Test {
 protected:
  LivenessTest()
      : supervisor_(clock_, launcher_, {}),
        router_(clock_, outbox_, {{"m", 8, 500ms}}),
        liveness_(clock_, router_, supervisor_, kOptions) {
    for (const char* id : {"m-0", "m-1"}) supervisor_.Add({id, "m", "cpu"});
    supervisor_.Tick();  // starts both
  }

  void Register(const std::string& id) {
    WorkerRecord w;
    w.id = id;
    w.identity = "ident-" + id;
    w.model = "m";
    w.capacity = 1;
    w.pid = supervisor_.Find(id)->pid;
    w.last_heard = w.last_sent = clock_.Now();
    router_.OnRegister(std::move(w));
  }

  // A message from the worker: it is alive.
  void Heard(const std::string& id) { router_.workers().ById(id)->last_heard = clock_.Now(); }

  void Submit(const std::string& client) {
    PendingRequest r;
    r.client = client;
    r.id = "id-" + client;
    r.model = "m";
    r.body = zmq::message_t(std::string_view("body"));
    router_.Submit(std::move(r));
  }

  bool Killed(const std::string& id) {
    const auto it = std::find(launcher_.signals.begin(), launcher_.signals.end(),
                              std::pair<int64_t, int>{supervisor_.Find(id)->pid, SIGKILL});
    return it != launcher_.signals.end();
  }

  testing::FakeClock clock_;
  testing::FakeLauncher launcher_;
  testing::RecordingOutbox outbox_;
  Supervisor supervisor_;
  Router router_;
  Liveness liveness_;
};

TEST_F(LivenessTest, ASilentWorkerIsKilledAtTheLivenessWindowAndItsRequestGoesToASibling) {
  Register("m-0");
  Register("m-1");
  Submit("a");
  ASSERT_EQ(outbox_.to_workers.size(), 1u);
  const std::string first = outbox_.to_workers[0].worker;
  const std::string sibling = first == "m-0" ? "m-1" : "m-0";

  clock_.Advance(kOptions.liveness - 1ms);
  Heard(sibling);
  EXPECT_TRUE(liveness_.Check().empty()) << "silent for less than the window";
  clock_.Advance(1ms);
  EXPECT_EQ(liveness_.Check(), std::vector<std::string>{first});
  EXPECT_TRUE(Killed(first));
  EXPECT_FALSE(Killed(sibling));
  EXPECT_EQ(router_.workers().ById(first), nullptr) << "no longer routed to";
  ASSERT_EQ(outbox_.to_workers.size(), 2u) << "the request is retried";
  EXPECT_EQ(outbox_.to_workers[1].worker, sibling);
  EXPECT_EQ(outbox_.to_workers[1].request_id, "id-a");
}

TEST_F(LivenessTest, HeartbeatsKeepAnIdleWorkerAlive) {
  Register("m-0");
  Register("m-1");
  for (int i = 0; i < 10; ++i) {
    clock_.Advance(kOptions.liveness / 2);
    Heard("m-0");
    Heard("m-1");
    EXPECT_TRUE(liveness_.Check().empty());
  }
}

TEST_F(LivenessTest, AWorkerStillRunningARequestHungAfterPastItsDeadlineIsKilled) {
  Register("m-0");
  Submit("a");  // the model's timeout: 500 ms
  ASSERT_EQ(outbox_.to_workers.size(), 1u);
  clock_.Advance(500ms);
  router_.RunTimers(1s);
  EXPECT_EQ(outbox_.Only("a").status.code(), ErrorCode::kDeadlineExceeded);
  clock_.Advance(kOptions.hung_after - 1ms);
  Heard("m-0");  // its heartbeats go on: the I/O thread lives, the forward does not end
  EXPECT_TRUE(liveness_.Check().empty());
  clock_.Advance(1ms);
  Heard("m-0");
  EXPECT_EQ(liveness_.Check(), std::vector<std::string>{"m-0"});
  EXPECT_TRUE(Killed("m-0"));
  EXPECT_EQ(outbox_.replies["a"].size(), 1u) << "answered once, at its deadline";
}

TEST_F(LivenessTest, AProcessThatNeverRegistersIsKilledAtTheRegisterTimeoutOnce) {
  Register("m-1");
  clock_.Advance(kOptions.register_timeout - 1ms);
  Heard("m-1");
  EXPECT_TRUE(liveness_.Check().empty());
  clock_.Advance(1ms);
  Heard("m-1");
  EXPECT_EQ(liveness_.Check(), std::vector<std::string>{"m-0"});
  EXPECT_TRUE(Killed("m-0"));
  EXPECT_FALSE(Killed("m-1")) << "it registered";
  Heard("m-1");
  EXPECT_TRUE(liveness_.Check().empty()) << "one SIGKILL per process";
}

}  // namespace
}  // namespace botmodels
