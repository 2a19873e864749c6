#include "broker/worker_plan.h"

#include <gtest/gtest.h>

#include "tests/unit/fake_launcher.h"

namespace botmodels {
namespace {

ModelConfig Model(const std::string& name, std::vector<std::string> devices, uint32_t replicas) {
  ModelConfig m;
  m.name = name;
  m.devices = std::move(devices);
  m.replicas = replicas;
  return m;
}

std::vector<std::string> Devices(const std::vector<WorkerSpec>& specs) {
  std::vector<std::string> out;
  for (const auto& s : specs) out.push_back(s.id + "@" + s.device);
  return out;
}

TEST(WorkerPlan, AutoIsOneCpuWorkerWithoutGpus) {
  const auto specs = PlanWorkers({Model("m", {"auto"}, 1)}, 0, 8);
  EXPECT_EQ(Devices(specs), std::vector<std::string>{"m-0@cpu"});
  EXPECT_EQ(specs[0].model, "m");
}

TEST(WorkerPlan, AutoIsOneWorkerPerGpuTimesReplicas) {
  EXPECT_EQ(Devices(PlanWorkers({Model("m", {"auto"}, 2)}, 2, 8)),
            (std::vector<std::string>{"m-0@cuda:0", "m-1@cuda:1", "m-2@cuda:0", "m-3@cuda:1"}));
}

TEST(WorkerPlan, ExplicitDevicesStayAsWrittenAndCudaNeverTurnsIntoCpu) {
  EXPECT_EQ(Devices(PlanWorkers({Model("a", {"cuda:1", "cpu"}, 1), Model("b", {"cuda"}, 1)}, 0, 8)),
            (std::vector<std::string>{"a-0@cuda:1", "a-1@cpu", "b-0@cuda"}));
}

TEST(WorkerPlan, GpusAreCountedOnlyWhenAModelAsksForThem) {
  EXPECT_FALSE(NeedsGpuCount({Model("a", {"cpu", "cuda:0"}, 1)}));
  EXPECT_TRUE(NeedsGpuCount({Model("a", {"cpu"}, 1), Model("b", {"auto"}, 1)}));
}

TEST(WorkerPlan, AutoThreadsShareTheCoresAndASetCountIsKept) {
  ModelConfig fixed = Model("fixed", {"cpu"}, 1);
  fixed.threads = 3;
  const auto specs = PlanWorkers({Model("a", {"cpu"}, 2), Model("b", {"cpu"}, 1), fixed}, 0, 8);
  ASSERT_EQ(specs.size(), 4u);
  EXPECT_EQ(specs[0].threads, 2u);  // 8 cores / 4 workers
  EXPECT_EQ(specs[2].threads, 2u);
  EXPECT_EQ(specs[3].threads, 3u);
  // More workers than cores: one thread each, never zero.
  for (const auto& spec : PlanWorkers({Model("m", {"cpu"}, 5)}, 0, 2)) EXPECT_EQ(spec.threads, 1u);
}

TEST(ProbeCudaDevices, RunsTheWorkersProbeThroughTheLauncherAndReadsItsCount) {
  testing::FakeLauncher launcher;
  launcher.output = "2\n";
  EXPECT_EQ(ProbeCudaDevices(launcher, "/bin/worker"), 2);
  ASSERT_EQ(launcher.outputs_run.size(), 1u);
  EXPECT_EQ(launcher.outputs_run[0], std::vector<std::string>{"--probe-devices"});
  EXPECT_TRUE(launcher.starts.empty()) << "a probe is not a supervised worker";
}

TEST(ProbeCudaDevices, AProbeThatFailsOrPrintsNoNumberMeansNoGpu) {
  testing::FakeLauncher launcher;
  EXPECT_EQ(ProbeCudaDevices(launcher, "/bin/worker"), 0);  // cannot run
  launcher.output = "CUDA driver too old\n";
  EXPECT_EQ(ProbeCudaDevices(launcher, "/bin/worker"), 0);
  launcher.output = "-3\n";
  EXPECT_EQ(ProbeCudaDevices(launcher, "/bin/worker"), 0);
}

}  // namespace
}  // namespace botmodels
