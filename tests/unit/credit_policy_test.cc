// The credit a worker announces when its model.toml leaves it to the worker.
#include "worker/credit_policy.h"

#include <gtest/gtest.h>

namespace botmodels {
namespace {

using namespace std::chrono_literals;

// The credit for 50 µs forwards: a round trip of them, plus the one running.
constexpr uint32_t kFor50us = 1 + static_cast<uint32_t>(CreditPolicy::kRoundTrip / 50us);

// Feeds `looks` full looks of single-request forwards of `each`; returns
// the last credit announced, if any.
std::optional<uint32_t> Forwards(CreditPolicy& policy, Clock::duration each, int looks = 1,
                                 size_t requests = 1) {
  std::optional<uint32_t> announced;
  for (uint32_t i = 0; i < static_cast<uint32_t>(looks) * CreditPolicy::kForwardsPerLook; ++i) {
    if (auto credit = policy.OnForward(each, requests)) announced = credit;
  }
  return announced;
}

TEST(CreditPolicy, AConfiguredCreditNeverChanges) {
  CreditPolicy policy(5, /*adapts=*/false);
  EXPECT_FALSE(Forwards(policy, 1us, 4).has_value());
  EXPECT_EQ(policy.credit(), 5u);
}

TEST(CreditPolicy, NothingIsAnnouncedBeforeAWholeLook) {
  CreditPolicy policy(CreditPolicy::kMinCredit, true);
  for (uint32_t i = 1; i < CreditPolicy::kForwardsPerLook; ++i) {
    EXPECT_FALSE(policy.OnForward(1us, 1).has_value());
  }
  EXPECT_EQ(policy.OnForward(1us, 1), CreditPolicy::kMaxCredit);
}

TEST(CreditPolicy, FastForwardsRaiseTheCreditToCoverARoundTripUpToTheCap) {
  CreditPolicy fast(CreditPolicy::kMinCredit, true);
  EXPECT_EQ(Forwards(fast, 5us), CreditPolicy::kMaxCredit);
  CreditPolicy medium(CreditPolicy::kMinCredit, true);
  EXPECT_EQ(Forwards(medium, 50us), kFor50us);
}

TEST(CreditPolicy, SlowForwardsKeepTheDefaultOfTwo) {
  CreditPolicy policy(CreditPolicy::kMinCredit, true);
  EXPECT_FALSE(Forwards(policy, 1ms, 3).has_value());
  EXPECT_EQ(policy.credit(), CreditPolicy::kMinCredit);
}

TEST(CreditPolicy, ABatchedForwardCountsPerRequest) {
  CreditPolicy policy(CreditPolicy::kMinCredit, true);
  // 4 requests in 200 µs: 50 µs each, as above.
  EXPECT_EQ(Forwards(policy, 200us, 1, 4), kFor50us);
}

TEST(CreditPolicy, TheCreditFallsBackWhenForwardsSlowDown) {
  CreditPolicy policy(CreditPolicy::kMinCredit, true);
  ASSERT_EQ(Forwards(policy, 5us), CreditPolicy::kMaxCredit);
  EXPECT_EQ(Forwards(policy, 1ms), CreditPolicy::kMinCredit);
}

TEST(CreditPolicy, AChangeOfLessThanAQuarterIsNotAnnounced) {
  CreditPolicy policy(CreditPolicy::kMinCredit, true);
  ASSERT_EQ(Forwards(policy, 5us), 16u);
  EXPECT_FALSE(Forwards(policy, 20us).has_value());  // 1 + 250 / 20 = 14: 2 of 16
  EXPECT_EQ(policy.credit(), 16u);
  EXPECT_EQ(Forwards(policy, 25us), 11u);  // 1 + 250 / 25: 5 of 16
}

}  // namespace
}  // namespace botmodels
