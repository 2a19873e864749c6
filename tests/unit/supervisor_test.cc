#include "broker/supervisor.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <map>
#include <set>

#include "common/exit_codes.h"
#include "tests/testutil.h"
#include "tests/unit/fake_launcher.h"

namespace botmodels {
namespace {

using namespace std::chrono_literals;

using testing::FakeLauncher;

class SupervisorTest : public ::testing::Test {
 protected:
  SupervisorTest() : supervisor_(clock_, launcher_, Options()) {}

  static SupervisorOptions Options() {
    SupervisorOptions o;
    o.worker_binary = "/bin/worker";
    o.common_args = {"--broker", "ipc://x"};
    o.common_env = {{"BOTMODELS_WORKER_SECRET", "s3cret-s3cret-s3cret"}};
    o.backoff_min = 100ms;
    o.backoff_max = 400ms;
    o.stable_after = 10s;
    o.stop_grace = 0ms;
    return o;
  }

  int64_t Pid(const std::string& id) { return supervisor_.Find(id)->pid; }

  testing::FakeClock clock_;
  FakeLauncher launcher_;
  Supervisor supervisor_;
};

TEST_F(SupervisorTest, StartsEveryWorkerWithItsArguments) {
  supervisor_.Add({"m-0", "m", "cpu"});
  supervisor_.Add({"m-1", "m", "cuda:1"});
  EXPECT_TRUE(supervisor_.Tick().empty());
  ASSERT_EQ(launcher_.starts.size(), 2u);
  EXPECT_EQ(launcher_.starts[1], (std::vector<std::string>{"--broker", "ipc://x", "--id", "m-1",
                                                           "--model", "m", "--device", "cuda:1"}));
  EXPECT_NE(Pid("m-0"), 0);
}

TEST_F(SupervisorTest, RestartsAnExitedWorkerAfterABackoffThatDoublesAndCaps) {
  supervisor_.Add({"m-0", "m", "cpu"});
  supervisor_.Tick();
  for (auto expected : {100ms, 200ms, 400ms, 400ms}) {
    launcher_.End(Pid("m-0"), {0, SIGKILL});
    auto exits = supervisor_.Tick();
    ASSERT_EQ(exits.size(), 1u);
    EXPECT_EQ(exits[0].status.signal, SIGKILL);
    EXPECT_EQ(Pid("m-0"), 0);
    clock_.Advance(expected - 1ms);
    supervisor_.Tick();
    EXPECT_EQ(Pid("m-0"), 0) << "restarted before " << expected.count() << " ms";
    clock_.Advance(1ms);
    supervisor_.Tick();
    EXPECT_NE(Pid("m-0"), 0) << "not restarted after " << expected.count() << " ms";
  }
  EXPECT_EQ(supervisor_.Find("m-0")->restarts, 4u);
  EXPECT_EQ(supervisor_.Find("m-0")->last_exit, "killed by signal 9 (SIGKILL)");
}

TEST_F(SupervisorTest, ALongRunResetsTheBackoff) {
  supervisor_.Add({"m-0", "m", "cpu"});
  supervisor_.Tick();
  for (int i = 0; i < 3; ++i) {  // backoff grows to 400 ms
    launcher_.End(Pid("m-0"), {1, 0});
    supervisor_.Tick();
    clock_.Advance(400ms);
    supervisor_.Tick();
  }
  clock_.Advance(10s);  // stable
  launcher_.End(Pid("m-0"), {1, 0});
  supervisor_.Tick();
  clock_.Advance(100ms);
  supervisor_.Tick();
  EXPECT_NE(Pid("m-0"), 0);
}

TEST_F(SupervisorTest, AModelLoadFailureRestartsWithPreload) {
  supervisor_.Add({"m-0", "m", "cpu"});
  supervisor_.Tick();
  launcher_.End(Pid("m-0"), {kExitLoadFailed, 0});
  auto exits = supervisor_.Tick();
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_TRUE(exits[0].load_failed);
  clock_.Advance(100ms);
  supervisor_.Tick();
  const auto& args = launcher_.starts.back();
  EXPECT_NE(std::find(args.begin(), args.end(), "--preload"), args.end());
  EXPECT_NE(supervisor_.Find("m-0")->last_exit.find("model load failed"), std::string::npos);
}

TEST_F(SupervisorTest, KillSendsSigkillOncePerProcess) {
  launcher_.fatal_signals = {};  // the exit is reaped later
  supervisor_.Add({"m-0", "m", "cpu"});
  supervisor_.Tick();
  const int64_t pid = Pid("m-0");
  supervisor_.Kill("m-0");
  supervisor_.Kill("m-0");
  ASSERT_EQ(launcher_.signals.size(), 1u);
  EXPECT_EQ(launcher_.signals[0], std::make_pair(pid, SIGKILL));
  EXPECT_TRUE(supervisor_.Find("m-0")->killed);
  launcher_.End(pid, {0, SIGKILL});
  supervisor_.Tick();
  clock_.Advance(100ms);
  supervisor_.Tick();
  EXPECT_FALSE(supervisor_.Find("m-0")->killed) << "a new process";
  supervisor_.Kill("m-0");
  EXPECT_EQ(launcher_.signals.size(), 2u);
}

TEST_F(SupervisorTest, StopAllTerminatesEveryWorkerAndRestartsNone) {
  supervisor_.Add({"m-0", "m", "cpu"});
  supervisor_.Add({"m-1", "m", "cpu"});
  supervisor_.Tick();
  supervisor_.StopAll();
  EXPECT_EQ(launcher_.signals.size(), 2u);
  for (const auto& [pid, sig] : launcher_.signals) EXPECT_EQ(sig, SIGTERM);
  EXPECT_EQ(Pid("m-0"), 0);
  EXPECT_EQ(Pid("m-1"), 0);
  clock_.Advance(1h);
  supervisor_.Tick();
  EXPECT_EQ(launcher_.starts.size(), 2u);
}

TEST_F(SupervisorTest, StopAllKillsWorkersThatIgnoreSigterm) {
  launcher_.fatal_signals = {SIGKILL};
  supervisor_.Add({"m-0", "m", "cpu"});
  supervisor_.Tick();
  const int64_t pid = Pid("m-0");
  supervisor_.StopAll();  // stop_grace is 0: SIGKILL follows at once
  ASSERT_EQ(launcher_.signals.size(), 2u);
  EXPECT_EQ(launcher_.signals[0], std::make_pair(pid, SIGTERM));
  EXPECT_EQ(launcher_.signals[1], std::make_pair(pid, SIGKILL));
  EXPECT_EQ(Pid("m-0"), 0);
}

TEST_F(SupervisorTest, SecretsGoToTheEnvironmentNeverToTheArguments) {
  supervisor_.Add({"m-0", "m", "cpu"});
  supervisor_.Tick();
  ASSERT_EQ(launcher_.envs.size(), 1u);
  EXPECT_EQ(launcher_.envs[0].at("BOTMODELS_WORKER_SECRET"), "s3cret-s3cret-s3cret");
  for (const std::string& arg : launcher_.starts[0])
    EXPECT_EQ(arg.find("s3cret"), std::string::npos);
}

TEST_F(SupervisorTest, RestartKillsAndStartsAgainAtOnceWithoutBackoff) {
  supervisor_.Add({"m-0", "m", "cpu"});
  supervisor_.Tick();
  const int64_t first = Pid("m-0");
  ASSERT_TRUE(supervisor_.Restart("m-0"));
  EXPECT_EQ(launcher_.signals.back(), (std::pair<int64_t, int>{first, SIGKILL}));
  auto exits = supervisor_.Tick();  // reaped and started in the same tick: no backoff
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_NE(Pid("m-0"), 0);
  EXPECT_NE(Pid("m-0"), first);
  EXPECT_EQ(supervisor_.Find("m-0")->restarts, 1u);
  EXPECT_EQ(supervisor_.Find("m-0")->last_exit, "killed by signal 9 (SIGKILL) (restart requested)");
  // A crash right after still gets the first backoff, not a doubled one.
  launcher_.End(Pid("m-0"), ExitStatus{1, 0});
  supervisor_.Tick();
  EXPECT_EQ(Pid("m-0"), 0);
  clock_.Advance(100ms);
  supervisor_.Tick();
  EXPECT_NE(Pid("m-0"), 0);
  EXPECT_FALSE(supervisor_.Restart("nobody"));
}

TEST_F(SupervisorTest, RestartOfAWorkerInBackoffStartsItNow) {
  supervisor_.Add({"m-0", "m", "cpu"});
  supervisor_.Tick();
  launcher_.End(Pid("m-0"), ExitStatus{1, 0});
  supervisor_.Tick();
  ASSERT_EQ(Pid("m-0"), 0);
  ASSERT_TRUE(supervisor_.Restart("m-0"));
  supervisor_.Tick();
  EXPECT_NE(Pid("m-0"), 0);
}

TEST_F(SupervisorTest, AStoppedWorkerIsNotRestartedUntilAskedTo) {
  supervisor_.Add({"m-0", "m", "cpu"});
  supervisor_.Tick();
  const int64_t pid = Pid("m-0");
  ASSERT_TRUE(supervisor_.Stop("m-0"));
  EXPECT_EQ(launcher_.signals.back(), (std::pair<int64_t, int>{pid, SIGTERM}));
  ASSERT_EQ(supervisor_.Tick().size(), 1u);
  clock_.Advance(10s);
  supervisor_.Tick();
  EXPECT_EQ(Pid("m-0"), 0);
  EXPECT_EQ(launcher_.starts.size(), 1u);
  ASSERT_TRUE(supervisor_.Restart("m-0"));
  supervisor_.Tick();
  EXPECT_NE(Pid("m-0"), 0);
  EXPECT_FALSE(supervisor_.Stop("nobody"));
}

}  // namespace
}  // namespace botmodels
