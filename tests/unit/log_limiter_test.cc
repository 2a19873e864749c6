#include "broker/log_limiter.h"

#include <gtest/gtest.h>

#include "tests/testutil.h"

namespace botmodels {
namespace {

TEST(LogLimiter, AllowsABurstThenOneLinePerIntervalAndCountsTheRest) {
  testing::FakeClock clock;
  LogLimiter limiter(std::chrono::seconds(10), 3, 100);
  uint64_t suppressed = 99;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(limiter.Allow("peer", clock.Now(), &suppressed));
    EXPECT_EQ(suppressed, 0u);
  }
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(limiter.Allow("peer", clock.Now(), &suppressed));
  clock.Advance(std::chrono::seconds(10));
  ASSERT_TRUE(limiter.Allow("peer", clock.Now(), &suppressed));
  EXPECT_EQ(suppressed, 50u);
  EXPECT_FALSE(limiter.Allow("peer", clock.Now(), &suppressed));
}

TEST(LogLimiter, PeersHaveTheirOwnBudgetUpToTheTrackedLimit) {
  testing::FakeClock clock;
  LogLimiter limiter(std::chrono::seconds(10), 1, 2);
  uint64_t suppressed = 0;
  EXPECT_TRUE(limiter.Allow("a", clock.Now(), &suppressed));
  EXPECT_FALSE(limiter.Allow("a", clock.Now(), &suppressed));
  EXPECT_TRUE(limiter.Allow("b", clock.Now(), &suppressed));
  // The map is full: new peers share one budget.
  EXPECT_TRUE(limiter.Allow("c", clock.Now(), &suppressed));
  EXPECT_FALSE(limiter.Allow("d", clock.Now(), &suppressed));
}

}  // namespace
}  // namespace botmodels
