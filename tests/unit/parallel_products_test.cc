// Our few-row kernels (few_row_products.h, int8_linear.h) split a large
// product across libtorch's intra-op threads: run where OpenMP may use two
// threads (tests/CMakeLists.txt), split results equal one thread's.
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <atomic>

#include "models/torchscript/script_model.h"
#include "models/torchscript/torch_device.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

using testing::TempDir;

// Whether a parallel_for of two chunks runs them on two threads here.
bool TwoThreadsRun() {
  at::set_num_threads(2);
  std::atomic<int> seen{0};
  at::parallel_for(0, 2, 1, [&](int64_t, int64_t) { seen |= 1 << at::get_thread_num(); });
  return seen == 3;
}

// Each output is computed whole by one thread, in the same order whatever
// the split, so the results are equal, not only close.
TEST(ParallelProducts, ALargeFewRowProductSplitAcrossThreadsEqualsOneThreads) {
  TempDir dir;
  torch::manual_seed(5);
  // 8 Mi weights (past the kernels' share per thread: both split it) and
  // cross-attention over 1 500 keys for five beams.
  SaveScript(dir / "model.pt", R"(
def forward(self, x, q):
    return torch.linear(x, self.w, self.b), torch.matmul(q, self.keys)
)",
             {{"w", torch::randn({8192, 1024}) / 32},
              {"b", torch::randn({8192})},
              {"keys", torch::randn({1, 8, 64, 1500})}});
  c10::InferenceMode guard;
  const torch::Tensor q = torch::randn({1, 8, 5, 64});
  for (const Precision precision : {Precision::kFp32, Precision::kInt8}) {
    TorchDevice device("cpu", "parallel");
    ASSERT_OK(device.Open(0, precision));
    auto module = device.Load(dir / "model.pt");
    ASSERT_OK(module);
    for (const int rows : {1, 5}) {
      const torch::Tensor x = torch::randn({rows, 1024});
      at::set_num_threads(1);
      const auto one = module->forward({x, q}).toTuple();
      ASSERT_TRUE(TwoThreadsRun()) << "OMP_THREAD_LIMIT must allow two threads";
      const auto two = module->forward({x, q}).toTuple();
      for (size_t i = 0; i < 2; ++i) {
        EXPECT_TRUE(torch::equal(one->elements()[i].toTensor(), two->elements()[i].toTensor()))
            << PrecisionName(precision) << ", " << rows << " rows, output " << i;
      }
    }
  }
}

}  // namespace
}  // namespace botmodels
