// Dynamic batching in the worker (docs/performance.md), through a real
// broker and real workers.
#include <gtest/gtest.h>
#include <torch/script.h>

#include <thread>

#include "tests/integration/test_models.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

using namespace std::chrono_literals;
using testing::BrokerHarness;

// Long enough that requests sent together always share a forward, even on a
// loaded machine; a test waits this long once per batch.
constexpr char kBatching[] = "max_batch_size = 64\nmax_queue_delay_us = 300000\n";

// y = x * 3 for float32 [-1, -1]: batches only requests of equal width; any
// negative input makes the forward fail, for the whole batch it is in.
ScriptModel Triple() {
  return {"triple",
          "def forward(self, x):\n"
          "    assert bool((x >= 0).all()), 'negative input'\n"
          "    return x * 3\n",
          {},
          std::string("devices = [\"cpu\"]\n") + kBatching +
              "[[inputs]]\nname = \"x\"\ndtype = \"float32\"\nshape = [-1, -1]\n"
              "[[outputs]]\nname = \"y\"\ndtype = \"float32\"\nshape = [-1, -1]\n"};
}

// Waits until the broker's metrics count `replies` replies of `model` in the
// batch histogram, and returns the mean rows per reply.
double MeanBatchRows(const BrokerHarness& broker, const std::string& model, double replies) {
  const std::string count = "botmodels_batch_rows_count{model=\"" + model + "\"}";
  const std::string sum = "botmodels_batch_rows_sum{model=\"" + model + "\"}";
  std::map<std::string, double> m;
  for (int i = 0; i < 100 && m[count] < replies; ++i) {  // published every 250 ms
    std::this_thread::sleep_for(50ms);
    m = broker.Metrics();
  }
  EXPECT_EQ(m[count], replies);
  return m[count] > 0 ? m[sum] / m[count] : 0;
}

TEST(Batching, BatchedMlpRepliesEqualUnbatchedForwardsBitForBit) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::CpuMlp(kBatching));
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  auto module = torch::jit::load(broker.repository() + "/mlp/model.pt");
  module.eval();

  auto client = broker.NewClient();
  std::map<std::string, protocol::Tensor> sent;
  // 49 rows: one batch. At least 4 rows each: with fewer, OpenBLAS picks
  // another kernel for the request alone, whose last bits differ
  // (docs/performance.md, "Batching").
  for (uint32_t i = 0; i < 10; ++i) {
    protocol::Tensor x = testing::RandomFloats({4 + i % 3, 512}, 100 + i);
    sent[client->Send(testing::InferRequest("mlp", {{"x", x}}))] = x;
  }
  for (size_t i = 0; i < sent.size(); ++i) {
    auto reply = client->Receive(60s);
    ASSERT_TRUE(reply.has_value());
    ASSERT_OK(reply->status);
    const protocol::Tensor& x = sent.at(*reply->id);
    // The same request alone, in this process.
    torch::NoGradGuard no_grad;
    at::Tensor in = torch::from_blob(const_cast<char*>(x.data.data()), x.shape).clone();
    at::Tensor expected = module.forward({in}).toTensor().contiguous();
    const protocol::Tensor& y = reply->outputs.at("y");
    EXPECT_EQ(y.shape, x.shape);
    ASSERT_EQ(y.data.size(), static_cast<size_t>(expected.nbytes()));
    EXPECT_EQ(std::memcmp(y.data.data(), expected.data_ptr(), y.data.size()), 0)
        << "request " << *reply->id << ": the batched output differs from its own forward";
  }
  // Replies did come from shared forwards.
  EXPECT_GT(MeanBatchRows(broker, "mlp", 10), 8) << broker.log();
}

TEST(Batching, RequestsOfOtherShapesBatchSeparately) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), Triple());
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  auto client = broker.NewClient();
  const std::vector<protocol::Tensor> inputs = {
      testing::Floats({1, 3}, {1, 2, 3}),
      testing::Floats({1, 5}, {1, 2, 3, 4, 5}),
      testing::Floats({2, 3}, {4, 5, 6, 7, 8, 9}),
      testing::Floats({2, 5}, {6, 7, 8, 9, 10, 11, 12, 13, 14, 15}),
      testing::Floats({1, 3}, {10, 11, 12}),
  };
  std::map<std::string, size_t> sent;
  for (size_t i = 0; i < inputs.size(); ++i) {
    sent[client->Send(testing::InferRequest("triple", {{"x", inputs[i]}}))] = i;
  }
  for (size_t n = 0; n < inputs.size(); ++n) {
    auto reply = client->Receive(60s);
    ASSERT_TRUE(reply.has_value());
    ASSERT_TRUE(reply->status.ok()) << broker.log();
    const protocol::Tensor& x = inputs[sent.at(*reply->id)];
    std::vector<float> tripled(x.data.size() / 4);
    std::memcpy(tripled.data(), x.data.data(), x.data.size());
    for (float& v : tripled) v *= 3;
    EXPECT_EQ(reply->outputs.at("y"), testing::Floats(x.shape, tripled));
  }
  // Width 3: one forward of 4 rows for 3 replies; width 5: 3 rows for 2.
  EXPECT_DOUBLE_EQ(MeanBatchRows(broker, "triple", 5), (3 * 4 + 2 * 3) / 5.0) << broker.log();
}

TEST(Batching, OneBadRequestFailsAloneAndItsBatchNeighboursSucceed) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), Triple());
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  auto client = broker.NewClient();
  std::map<std::string, float> sent;
  for (float v : {1.0f, 2.0f, -1.0f, 4.0f, 5.0f}) {
    sent[client->Send(testing::InferRequest("triple", {{"x", testing::Floats({1, 2}, {v, v})}}))] =
        v;
  }
  int failed = 0;
  for (size_t n = 0; n < sent.size(); ++n) {
    auto reply = client->Receive(60s);
    ASSERT_TRUE(reply.has_value());
    const float v = sent.at(*reply->id);
    if (v < 0) {
      ++failed;
      EXPECT_EQ(reply->status.code(), ErrorCode::kInternal);
      EXPECT_NE(reply->status.message().find("negative input"), std::string::npos);
    } else {
      ASSERT_OK(reply->status);
      EXPECT_EQ(reply->outputs.at("y"), testing::Floats({1, 2}, {3 * v, 3 * v}));
    }
  }
  EXPECT_EQ(failed, 1);
  EXPECT_NE(broker.log().find("a batch of 5 requests failed"), std::string::npos) << broker.log();
}

}  // namespace
}  // namespace botmodels
