// Dynamic batching in the worker (docs/performance.md), through a real
// broker and real workers.
#include <gtest/gtest.h>
#include <torch/script.h>

#include <thread>

#include "models/torchscript/intra_op_threads.h"
#include "tests/broker_harness.h"
#include "tests/integration/test_models.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

using namespace std::chrono_literals;
using testing::BrokerHarness;

// A worker waits for company only for requests the broker says are on their
// way (docs/models.md, "Dynamic batching"), so these tests make a batch
// certain: a slow request (Blocker) holds the worker while the requests
// under test arrive, and they wait together for the next forward.
constexpr char kBatching[] = "max_batch_size = 64\nmax_queue_delay_us = 300000\n";

// y = x * 3 for float32 [-1, -1]: batches only requests of equal width; any
// negative input makes the forward fail, for the whole batch it is in. An
// input 512 wide first multiplies 512 × 512 matrices for tens of ms: a blocker.
ScriptModel Triple() {
  return {"triple",
          "def forward(self, x):\n"
          "    assert bool((x >= 0).all()), 'negative input'\n"
          "    if x.size(1) == 512:\n"
          "        z = torch.ones(512, 512)\n"
          "        for i in range(8):\n"
          "            z = torch.mm(z, z) * 0.001\n"
          "    return x * 3\n",
          {},
          std::string("devices = [\"cpu\"]\n") + kBatching +
              "[[inputs]]\nname = \"x\"\ndtype = \"float32\"\nshape = [-1, -1]\n"
              "[[outputs]]\nname = \"y\"\ndtype = \"float32\"\nshape = [-1, -1]\n"};
}

// How far a row computed inside a batch may be from the same row computed
// alone (relative and absolute, as torch::allclose): float32 rounding of a
// 512-long dot product summed in another order, with room to spare.
constexpr double kRowTolerance = 1e-4;

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

// Sends a request that keeps `model`'s worker busy for tens of ms (a forward
// of [rows, 512]): what follows at once arrives while it runs. Returns its id.
std::string SendBlocker(Client& client, const std::string& model, int64_t rows) {
  const protocol::Tensor zeros{protocol::DType::kFloat32,
                               {rows, 512},
                               std::string(static_cast<size_t>(rows) * 512 * sizeof(float), '\0')};
  return client.Send(testing::InferRequest(model, {{"x", zeros}}));
}

// What batching guarantees (docs/models.md, "Batching"): a request's rows in
// a batched reply are, bit for bit, those rows of one forward of the joined
// batch; against the request's own forward they agree within float32
// rounding, as BLAS may pick other kernels (and summation orders) for
// another row count or CPU.
TEST(Batching, BatchedRowsAreThoseOfTheJoinedForwardAndCloseToTheirOwnForward) {
  BrokerHarness broker;
  // One intra-op thread in the worker and here: the same kernels for the same rows.
  WriteScriptModel(broker.repository(), testing::CpuMlp(std::string(kBatching) + "threads = 1\n"));
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  SetIntraOpThreads(1);
  auto module = testing::LoadAsCpuWorker(broker.repository() + "/mlp/model.pt");
  torch::NoGradGuard no_grad;
  const auto forward = [&](const at::Tensor& x) {
    return module.forward({x}).toTensor().contiguous();
  };

  auto client = broker.NewClient();
  constexpr int64_t kBlockerRows = 4096;  // over max_batch_size: it runs alone, ~50 ms
  const std::string blocker = SendBlocker(*client, "mlp", kBlockerRows);
  std::vector<at::Tensor> inputs;  // in the order sent: the order they join in
  std::map<std::string, size_t> index;
  int64_t total_rows = 0;
  for (uint32_t i = 0; i < 10; ++i) {
    protocol::Tensor x = testing::RandomFloats({1 + i % 4, 512}, 100 + i);
    total_rows += x.shape[0];
    inputs.push_back(torch::from_blob(x.data.data(), x.shape).clone());
    index[client->Send(testing::InferRequest("mlp", {{"x", x}}))] = i;
  }
  std::vector<protocol::Tensor> outputs(inputs.size());
  for (size_t i = 0; i <= inputs.size(); ++i) {
    auto reply = client->Receive(60s);
    ASSERT_TRUE(reply.has_value());
    ASSERT_OK(reply->status);
    if (*reply->id != blocker) outputs[index.at(*reply->id)] = reply->outputs.at("y");
  }
  // All rows shared one forward (they arrived while the blocker ran), in
  // the order sent: one broker and one worker keep it.
  ASSERT_DOUBLE_EQ(MeanBatchRows(broker, "mlp", 11), (kBlockerRows + 10.0 * total_rows) / 11)
      << broker.log();
  const at::Tensor joined = forward(torch::cat(inputs));
  int64_t row = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const int64_t rows = inputs[i].size(0);
    const at::Tensor expected = joined.narrow(0, row, rows).contiguous();
    row += rows;
    const protocol::Tensor& y = outputs[i];
    ASSERT_EQ(y.shape, (std::vector<int64_t>{rows, expected.size(1)}));
    ASSERT_EQ(y.data.size(), static_cast<size_t>(expected.nbytes()));
    EXPECT_EQ(std::memcmp(y.data.data(), expected.data_ptr(), y.data.size()), 0)
        << "request " << i << ": its rows differ from those of the joined forward";
    const at::Tensor got = torch::from_blob(const_cast<char*>(y.data.data()), y.shape).clone();
    const at::Tensor alone = forward(inputs[i]);
    EXPECT_TRUE(torch::allclose(got, alone, kRowTolerance, kRowTolerance))
        << "request " << i << ": max difference from its own forward "
        << (got - alone).abs().max().item<float>();
  }
}

TEST(Batching, RequestsOfOtherShapesBatchSeparately) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), Triple());
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  auto client = broker.NewClient();
  const std::string blocker = SendBlocker(*client, "triple", 1);
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
  for (size_t n = 0; n <= inputs.size(); ++n) {
    auto reply = client->Receive(60s);
    ASSERT_TRUE(reply.has_value());
    ASSERT_TRUE(reply->status.ok()) << broker.log();
    if (*reply->id == blocker) continue;
    const protocol::Tensor& x = inputs[sent.at(*reply->id)];
    std::vector<float> tripled(x.data.size() / 4);
    std::memcpy(tripled.data(), x.data.data(), x.data.size());
    for (float& v : tripled) v *= 3;
    EXPECT_EQ(reply->outputs.at("y"), testing::Floats(x.shape, tripled));
  }
  // The blocker: 1 row; width 3: one forward of 4 rows for 3 replies; width 5: 3 rows for 2.
  EXPECT_DOUBLE_EQ(MeanBatchRows(broker, "triple", 6), (1 + 3 * 4 + 2 * 3) / 6.0) << broker.log();
}

TEST(Batching, OneBadRequestFailsAloneAndItsBatchNeighboursSucceed) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), Triple());
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  auto client = broker.NewClient();
  const std::string blocker = SendBlocker(*client, "triple", 1);
  std::map<std::string, float> sent;
  for (float v : {1.0f, 2.0f, -1.0f, 4.0f, 5.0f}) {
    sent[client->Send(testing::InferRequest("triple", {{"x", testing::Floats({1, 2}, {v, v})}}))] =
        v;
  }
  int failed = 0;
  for (size_t n = 0; n <= sent.size(); ++n) {
    auto reply = client->Receive(60s);
    ASSERT_TRUE(reply.has_value());
    if (*reply->id == blocker) continue;
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

TEST(Batching, ALoneRequestIsNotKeptWaitingForCompanyThatIsNotComing) {
  BrokerHarness broker;
  ScriptModel model = Triple();
  constexpr char kLongDelay[] = "max_queue_delay_us = 300000";
  model.toml.replace(model.toml.find(kLongDelay), sizeof kLongDelay - 1,
                     "max_queue_delay_us = 10000000");  // 10 s
  WriteScriptModel(broker.repository(), model);
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  auto client = broker.NewClient();
  for (int i = 0; i < 3; ++i) {  // one at a time, as a single user sends them
    const auto sent = std::chrono::steady_clock::now();
    client->Send(testing::InferRequest("triple", {{"x", testing::Floats({1, 2}, {1, 2})}}));
    auto reply = client->Receive(60s);
    ASSERT_TRUE(reply.has_value());
    ASSERT_OK(reply->status);
    EXPECT_LT(std::chrono::steady_clock::now() - sent, 5s) << "it waited for the queue delay";
  }
  EXPECT_DOUBLE_EQ(MeanBatchRows(broker, "triple", 3), 1.0);
}

}  // namespace
}  // namespace botmodels
