// Whisper's timestamp rules and segment cutting, on a small vocabulary
// laid out as Whisper's: text below the end token, timestamps last.
#include "models/pipelines/whisper_timestamps.h"

#include <gtest/gtest.h>

#include <cmath>

namespace botmodels {
namespace {

constexpr int64_t kEnd = 5;     // <|endoftext|>; 0-4 are text
constexpr int64_t kBegin = 10;  // <|0.00|>; 6-9 are other specials
constexpr int64_t kVocab = kBegin + WhisperTokens::kTimestamps;

WhisperTokens Tokens_() {
  WhisperTokens t;
  t.end = kEnd;
  t.timestamp_begin = kBegin;
  return t;
}

int64_t At(double seconds) { return kBegin + std::lround(seconds / 0.02); }

// Which tokens the rules leave possible after `generated`, from flat scores
// (text and timestamps equally likely, token by token).
std::vector<bool> Allowed(const WhisperTimestamps& rules, const Tokens& generated, float text = 0,
                          float timestamps = 0) {
  std::vector<float> scores(kVocab, timestamps);
  for (int64_t t = 0; t < kBegin; ++t) scores[t] = text;
  rules.Apply(scores, generated);
  std::vector<bool> allowed(kVocab);
  for (int64_t t = 0; t < kVocab; ++t) allowed[t] = std::isfinite(scores[t]);
  return allowed;
}

class Timestamps : public ::testing::Test {
 protected:
  // Text far likelier than any one timestamp, so that the probability rule stays out.
  std::vector<bool> After(const Tokens& generated) { return Allowed(rules_, generated, 20, 0); }
  WhisperTokens tokens_ = Tokens_();
  WhisperTimestamps rules_{tokens_};
};

TEST_F(Timestamps, AWindowStartsOnATimestampOfAtMostOneSecond) {
  const auto allowed = After({});
  for (int64_t t = 0; t < kBegin; ++t) EXPECT_FALSE(allowed[t]) << t;
  EXPECT_TRUE(allowed[At(0)]);
  EXPECT_TRUE(allowed[At(1.0)]);
  EXPECT_FALSE(allowed[At(1.02)]);
}

TEST_F(Timestamps, TextFollowsAPairAndATimestampFollowsALoneOne) {
  const auto after_start = After({At(0.5)});  // the first: counts as a pair's second
  EXPECT_TRUE(after_start[1]);
  EXPECT_FALSE(after_start[At(0.5)]);
  EXPECT_FALSE(after_start[At(2)]);
  const auto after_text = After({At(0.5), 1, 2});
  EXPECT_TRUE(after_text[3]);
  EXPECT_FALSE(after_text[At(0.5)]) << "a segment is never empty: strictly later";
  EXPECT_TRUE(after_text[At(0.52)]);
  const auto lone = After({At(0.5), 1, At(3)});
  for (int64_t t = 0; t < kEnd; ++t) EXPECT_FALSE(lone[t]) << "no text after a lone timestamp";
  EXPECT_TRUE(lone[kEnd]);
  EXPECT_FALSE(lone[At(2.98)]) << "never back";
  EXPECT_TRUE(lone[At(3)]) << "the next segment may start where this one ended";
  const auto pair = After({At(0.5), 1, At(3), At(3)});
  EXPECT_TRUE(pair[1]);
  EXPECT_FALSE(pair[At(3.5)]);
}

TEST_F(Timestamps, LikelierTimestampsTogetherThanAnyTextTokenForceATimestamp) {
  // One text token at e^0 against 1 501 timestamps at e^-5 each: 10 to 1 together.
  const auto allowed = Allowed(rules_, {At(0), 1}, 0, -5);
  for (int64_t t = 0; t < kBegin; ++t) EXPECT_FALSE(allowed[t]) << t;
  EXPECT_TRUE(allowed[At(4)]);
  // At e^-10 each, 0.07 together: text stays possible.
  EXPECT_TRUE(Allowed(rules_, {At(0), 1}, 0, -10)[2]);
}

TEST_F(Timestamps, PairsCutSegmentsAndTheWindowEndsAtTheLastCompleteOne) {
  const auto cut = rules_.Segments({At(0), 1, 2, At(2), At(2), 3, At(4.5), At(4.5), 4, At(7)}, 30);
  ASSERT_EQ(cut.segments.size(), 3u);
  EXPECT_DOUBLE_EQ(cut.segments[0].start_s, 0);
  EXPECT_DOUBLE_EQ(cut.segments[0].end_s, 2);
  EXPECT_EQ(cut.segments[0].tokens, Tokens({At(0), 1, 2, At(2)}));
  EXPECT_DOUBLE_EQ(cut.segments[1].start_s, 2);
  EXPECT_DOUBLE_EQ(cut.segments[1].end_s, 4.5);
  EXPECT_DOUBLE_EQ(cut.segments[2].start_s, 4.5);
  EXPECT_DOUBLE_EQ(cut.segments[2].end_s, 7);
  EXPECT_DOUBLE_EQ(cut.advance_s, 30) << "ends on a lone timestamp: the whole window is done";

  // Ending on a pair: the speech goes on past it, so the next window starts there.
  const auto open = rules_.Segments({At(0), 1, At(2), At(2), 3, At(6.4), At(6.4)}, 30);
  ASSERT_EQ(open.segments.size(), 2u);
  EXPECT_DOUBLE_EQ(open.segments[1].end_s, 6.4);
  EXPECT_DOUBLE_EQ(open.advance_s, 6.4);
}

TEST_F(Timestamps, WithoutAPairTheSegmentRunsToItsLastTimestampOrTheWindow) {
  const auto one = rules_.Segments({At(0), 1, 2, At(5)}, 30);
  ASSERT_EQ(one.segments.size(), 1u);
  EXPECT_DOUBLE_EQ(one.segments[0].end_s, 5);
  EXPECT_DOUBLE_EQ(one.advance_s, 30);
  const auto untimed = rules_.Segments({At(0), 1, 2}, 12.5);
  ASSERT_EQ(untimed.segments.size(), 1u);
  EXPECT_DOUBLE_EQ(untimed.segments[0].end_s, 12.5);
  EXPECT_DOUBLE_EQ(rules_.Segments({At(0), 1, At(29), At(29)}, 12.5).advance_s, 12.5)
      << "never past the window";
}

}  // namespace
}  // namespace botmodels
