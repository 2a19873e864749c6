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

}  // namespace
}  // namespace botmodels
