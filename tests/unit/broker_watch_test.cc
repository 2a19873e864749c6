// When a client with failover endpoints pings its broker and gives up on it.
#include "client/broker_watch.h"

#include <gtest/gtest.h>

namespace botmodels {
namespace {

using namespace std::chrono_literals;
using Action = BrokerWatch::Action;

TEST(BrokerWatch, PingsAfterAQuarterOfSilenceAndMovesOnAfterAllOfIt) {
  BrokerWatch watch(1000ms);
  const BrokerWatch::Time start{};
  watch.Sent(/*first=*/true, start);
  EXPECT_EQ(watch.Check(start + 249ms), Action::kWait);
  ASSERT_EQ(watch.Check(start + 250ms), Action::kPing);
  const protocol::Request ping = watch.Ping("p1", start + 250ms);
  EXPECT_EQ(ping.op, protocol::Op::kPing);
  EXPECT_EQ(ping.id, "p1");
  EXPECT_EQ(watch.Check(start + 499ms), Action::kWait) << "one ping per quarter";
  EXPECT_EQ(watch.Check(start + 500ms), Action::kPing) << "unanswered: again";
  EXPECT_EQ(watch.Check(start + 1000ms), Action::kMoveOn);
}

TEST(BrokerWatch, AnyFrameResetsTheSilenceAndThePingReplyIsRecognizedOnce) {
  BrokerWatch watch(1000ms);
  const BrokerWatch::Time start{};
  watch.Sent(true, start);
  watch.Ping("p1", start + 250ms);
  EXPECT_FALSE(watch.IsPingReply("request-7"));
  EXPECT_TRUE(watch.IsPingReply("p1"));
  EXPECT_FALSE(watch.IsPingReply("p1")) << "no longer awaited";
  watch.Heard(start + 900ms);
  EXPECT_EQ(watch.Check(start + 1800ms), Action::kPing) << "silent 900 ms, not 1800";
  watch.Sent(/*first=*/false, start + 1850ms);  // others wait: silence still counts from 900
  EXPECT_EQ(watch.Check(start + 1900ms), Action::kMoveOn);
  watch.Reset(start + 1900ms);
  EXPECT_EQ(watch.Check(start + 2000ms), Action::kWait);
}

}  // namespace
}  // namespace botmodels
