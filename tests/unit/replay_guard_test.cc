#include "broker/replay_guard.h"

#include <gtest/gtest.h>

#include "tests/testutil.h"

namespace botmodels {
namespace {

constexpr std::chrono::milliseconds kWindow{30'000};
constexpr int64_t kNow = 1'800'000'000'000;  // ms since the epoch

TEST(ReplayGuard, AdmitsAFreshNonceOnceAndRefusesItsReplay) {
  ReplayGuard guard(kWindow, 1000);
  ASSERT_OK(guard.Admit("k", "nonce-0001", kNow, kNow));
  const Status replay = guard.Admit("k", "nonce-0001", kNow, kNow + 5);
  EXPECT_EQ(replay.code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(replay.message().find("replayed"), std::string::npos) << replay.message();
  // The same nonce under another key is another pair.
  EXPECT_OK(guard.Admit("k2", "nonce-0001", kNow, kNow));
}

TEST(ReplayGuard, RefusesTimestampsOutsideTheWindowEitherWay) {
  ReplayGuard guard(kWindow, 1000);
  EXPECT_EQ(guard.Admit("k", "n-stale-1", kNow - 30'001, kNow).code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(guard.Admit("k", "n-future-1", kNow + 30'001, kNow).code(),
            ErrorCode::kUnauthenticated);
  EXPECT_OK(guard.Admit("k", "n-edge-1", kNow - 30'000, kNow));
}

TEST(ReplayGuard, ForgetsPairsOnceTheirTimestampLeavesTheWindow) {
  ReplayGuard guard(kWindow, 1000);
  for (int i = 0; i < 100; ++i) ASSERT_OK(guard.Admit("k", "n" + std::to_string(i), kNow, kNow));
  EXPECT_EQ(guard.size(), 100u);
  ASSERT_OK(guard.Admit("k", "later", kNow + 30'001, kNow + 30'001));
  EXPECT_EQ(guard.size(), 1u);
  // The forgotten ones stay refused: by their timestamp now.
  EXPECT_FALSE(guard.Admit("k", "n1", kNow, kNow + 30'001).ok());
}

TEST(ReplayGuard, AtCapacityRefusesWhatItCanNoLongerCheckInsteadOfGrowing) {
  ReplayGuard guard(kWindow, 3);
  ASSERT_OK(guard.Admit("k", "a", kNow - 3, kNow));
  ASSERT_OK(guard.Admit("k", "b", kNow - 2, kNow));
  ASSERT_OK(guard.Admit("k", "c", kNow - 1, kNow));
  ASSERT_OK(guard.Admit("k", "d", kNow, kNow));  // forgets "a"
  EXPECT_EQ(guard.size(), 3u);
  // "a" could no longer be recognised, so its age is refused.
  const Status replay = guard.Admit("k", "a", kNow - 3, kNow);
  EXPECT_EQ(replay.code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(replay.message().find("replay_cache_size"), std::string::npos) << replay.message();
  EXPECT_TRUE(replay.retryable()) << "signed afresh, the same request passes";
  const Status replayed = guard.Admit("k", "b", kNow - 2, kNow);  // still remembered
  EXPECT_EQ(replayed.code(), ErrorCode::kUnauthenticated);
  EXPECT_FALSE(replayed.retryable()) << "a true replay is refused for good";
  EXPECT_OK(guard.Admit("k", "e", kNow, kNow));  // newer than the floor
}

TEST(ReplayGuard, PairsArrivingOutOfTimestampOrderAreRefusedAsReplaysForTheirWholeWindow) {
  ReplayGuard guard(kWindow, 1000);
  ASSERT_OK(guard.Admit("k", "late-clock", kNow - 20'000, kNow));  // a client 20 s behind
  ASSERT_OK(guard.Admit("k", "early-clock", kNow - 25'000, kNow));
  // 6 s on, "early-clock" has left the window; "late-clock" has not and is still known.
  EXPECT_FALSE(guard.Admit("k", "early-clock", kNow - 25'000, kNow + 6'000).ok());
  const Status replay = guard.Admit("k", "late-clock", kNow - 20'000, kNow + 6'000);
  EXPECT_NE(replay.message().find("replayed"), std::string::npos) << replay.message();
  // At capacity the first to arrive goes, and the floor keeps its age refused.
  ReplayGuard small(kWindow, 1);
  ASSERT_OK(small.Admit("k", "newer", kNow, kNow));
  ASSERT_OK(small.Admit("k", "older", kNow - 5, kNow));  // forgets "newer": floor = kNow
  EXPECT_EQ(small.Admit("k", "newer", kNow, kNow).code(), ErrorCode::kUnauthenticated);
}

}  // namespace
}  // namespace botmodels
