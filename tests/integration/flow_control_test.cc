// Bounded queues and deadlines, through a real broker and worker.
#include <gtest/gtest.h>

#include <set>

#include "tests/broker_harness.h"
#include "tests/integration/test_models.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

using namespace std::chrono_literals;
using testing::BrokerHarness;

using testing::SlowRequest;

TEST(FlowControl, AFullQueueAnswersOverloadedAtOnceAndLosesNothing) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::Slow("max_inflight = 1\nqueue_size = 2\n"));
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  auto client = broker.NewClient();
  const int64_t iters = testing::CalibrateSlow(*client, 500ms);
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(client->Send(SlowRequest(iters)));  // 1 runs, 2 wait
  std::map<std::string, ErrorCode> codes;
  for (int i = 0; i < 6; ++i) {
    auto reply = client->Receive(30s);
    ASSERT_TRUE(reply.has_value());
    codes[*reply->id] = reply->status.code();
    if (!reply->status.ok()) {
      EXPECT_TRUE(reply->retryable);
    }
  }
  ASSERT_EQ(codes.size(), 6u);
  int overloaded = 0;
  for (const auto& [id, code] : codes) overloaded += code == ErrorCode::kOverloaded;
  EXPECT_EQ(overloaded, 3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(codes[ids[i]], ErrorCode::kOk) << "request " << i;
}

TEST(FlowControl, DeadlinesAreAnsweredInTheQueueAndWhileRunning) {
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::Slow("max_inflight = 1\n"));
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  auto client = broker.NewClient();
  const int64_t iters = testing::CalibrateSlow(*client, 1500ms);
  const std::string running = client->Send(SlowRequest(iters, 300));
  const std::string queued = client->Send(SlowRequest(1, 200));
  std::map<std::string, protocol::Reply> replies;
  for (int i = 0; i < 2; ++i) {
    auto reply = client->Receive(30s);
    ASSERT_TRUE(reply.has_value());
    replies[*reply->id] = *reply;
  }
  EXPECT_EQ(replies[queued].status.code(), ErrorCode::kDeadlineExceeded);
  EXPECT_NE(replies[queued].status.message().find("no worker took"), std::string::npos);
  EXPECT_EQ(replies[running].status.code(), ErrorCode::kDeadlineExceeded);
  EXPECT_NE(replies[running].status.message().find("did not answer within 300 ms"),
            std::string::npos);
  // The late result of the running request is dropped; the next request gets its own reply.
  auto next = client->Infer("slow", testing::SlowInputs(1));
  EXPECT_OK(next);
  EXPECT_FALSE(client->Receive(200ms).has_value()) << "no stray reply";
}

// Sends `n` requests of `request`, 8 in flight at a time, and reads every reply.
void Load(Client& client, const protocol::Request& request, int n) {
  int sent = 0, answered = 0;
  while (answered < n) {
    while (sent < n && sent - answered < 8) {
      client.Send(request);
      ++sent;
    }
    auto reply = client.Receive(30s);
    ASSERT_TRUE(reply.has_value());
    EXPECT_OK(reply->status);
    ++answered;
  }
}

TEST(FlowControl, AFastModelsWorkerRaisesTheCreditItWasLeftAndTheBrokerSeesIt) {
  constexpr char kWorker[] = "double-0";
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::CpuDouble());  // max_inflight unset
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  EXPECT_EQ(broker.Worker(kWorker).capacity, 2u) << "where an unset credit starts";
  auto client = broker.NewClient();
  protocol::Request request;
  request.op = protocol::Op::kInfer;
  request.model = "double";
  request.inputs = {{"x", testing::Floats({4}, {1, 2, 3, 4})}};
  // A forward of `double` takes microseconds. A busy machine can slow a
  // whole look of forwards, so load until one look is quick, bounded.
  for (int round = 0; round < 50 && broker.Worker(kWorker).capacity <= 2; ++round) {
    ASSERT_NO_FATAL_FAILURE(Load(*client, request, 64));
  }
  EXPECT_GT(broker.Worker(kWorker).capacity, 2u);
}

TEST(FlowControl, ASlowModelsWorkerKeepsACreditOfTwo) {
  constexpr char kWorker[] = "slow-0";
  BrokerHarness broker;
  WriteScriptModel(broker.repository(), testing::Slow());  // max_inflight unset
  ASSERT_NO_FATAL_FAILURE(broker.Start(1));
  auto client = broker.NewClient();
  // Forwards of 2 ms, 8 times the 250 µs round trip the credit covers, for
  // two looks of 32 forwards each.
  const int64_t iters = testing::CalibrateSlow(*client, 2ms);
  ASSERT_NO_FATAL_FAILURE(Load(*client, SlowRequest(iters), 2 * 32));
  EXPECT_EQ(broker.Worker(kWorker).capacity, 2u);
}

}  // namespace
}  // namespace botmodels
