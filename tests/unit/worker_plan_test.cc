#include "broker/worker_plan.h"

#include <gtest/gtest.h>

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
  const auto specs = PlanWorkers({Model("m", {"auto"}, 1)}, 0);
  EXPECT_EQ(Devices(specs), std::vector<std::string>{"m-0@cpu"});
  EXPECT_EQ(specs[0].model, "m");
}

TEST(WorkerPlan, AutoIsOneWorkerPerGpuTimesReplicas) {
  EXPECT_EQ(Devices(PlanWorkers({Model("m", {"auto"}, 2)}, 2)),
            (std::vector<std::string>{"m-0@cuda:0", "m-1@cuda:0", "m-2@cuda:1", "m-3@cuda:1"}));
}

TEST(WorkerPlan, ExplicitDevicesStayAsWrittenAndCudaFallsBackToCpu) {
  EXPECT_EQ(Devices(PlanWorkers({Model("a", {"cuda:1", "cpu"}, 1), Model("b", {"cuda"}, 1)}, 0)),
            (std::vector<std::string>{"a-0@cuda:1", "a-1@cpu", "b-0@cpu"}));
}

TEST(WorkerPlan, GpusAreCountedOnlyWhenAModelAsksForThem) {
  EXPECT_FALSE(NeedsGpuCount({Model("a", {"cpu", "cuda:0"}, 1)}));
  EXPECT_TRUE(NeedsGpuCount({Model("a", {"cpu"}, 1), Model("b", {"auto"}, 1)}));
}

}  // namespace
}  // namespace botmodels
