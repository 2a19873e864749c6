// TokenGenerator with a scripted decoder: the next token's probabilities
// depend on the last token only, so every expected sequence and its
// log-probability can be worked out by hand.
#include "models/pipelines/token_generator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>

#include "tests/testutil.h"

namespace botmodels {
namespace {

constexpr int64_t kStart = 0, kA = 1, kB = 2, kC = 3, kEnd = 4;
constexpr int kVocab = 5;

// Logits are log-probabilities, so softmax gives the table back.
class MarkovDecoder : public TokenDecoder {
 public:
  explicit MarkovDecoder(std::map<int64_t, std::map<int64_t, double>> table)
      : table_(std::move(table)) {}

  Result<std::vector<std::vector<float>>> NextLogits(
      const std::vector<Tokens>& sequences) override {
    ++steps;
    if (fail) return Status(ErrorCode::kOutOfMemory, "the forward ran out of memory");
    std::vector<std::vector<float>> rows;
    for (const Tokens& s : sequences) {
      std::vector<float> row(kVocab, std::log(1e-9f));  // a token the table omits: never
      if (const auto it = table_.find(s.back()); it != table_.end()) {
        for (const auto& [token, p] : it->second) row[token] = static_cast<float>(std::log(p));
      }
      rows.push_back(row);
    }
    return rows;
  }
  void Reorder(const std::vector<int>& sources) override { reorders.push_back(sources); }

  int steps = 0;
  bool fail = false;
  std::vector<std::vector<int>> reorders;

 private:
  std::map<int64_t, std::map<int64_t, double>> table_;
};

// Greedy takes A (0.5) and then ends (0.4): 0.2 in all. Taking B first (0.4)
// and then ending (0.9) is worth 0.36: only beam search finds it.
MarkovDecoder GreedyIsNotBest() {
  return MarkovDecoder({{kStart, {{kA, 0.5}, {kB, 0.4}, {kC, 0.1}}},
                        {kA, {{kEnd, 0.4}, {kA, 0.3}, {kB, 0.3}}},
                        {kB, {{kEnd, 0.9}, {kA, 0.05}, {kB, 0.05}}},
                        {kC, {{kEnd, 1.0}}}});
}

GenerationOptions Options(int beams, int max_new_tokens = 8) {
  GenerationOptions o;
  o.beams = beams;
  o.max_new_tokens = max_new_tokens;
  o.stop_tokens = {kEnd};
  return o;
}

TEST(TokenGenerator, GreedyTakesTheMostLikelyTokenEachStepAndStreamsIt) {
  MarkovDecoder decoder = GreedyIsNotBest();
  Tokens streamed;
  auto g = TokenGenerator(Options(1)).Generate(decoder, {kStart}, [&](int64_t t) {
    streamed.push_back(t);
  });
  ASSERT_OK(g);
  EXPECT_EQ(g->tokens, Tokens({kA}));
  EXPECT_TRUE(g->stopped);
  EXPECT_EQ(streamed, Tokens({kA}));
  EXPECT_NEAR(g->sum_log_prob, std::log(0.5) + std::log(0.4), 1e-6);
  EXPECT_NEAR(g->mean_log_prob, (std::log(0.5) + std::log(0.4)) / 2, 1e-6) << "the stop counts";
  EXPECT_EQ(decoder.steps, 2);
}

TEST(TokenGenerator, BeamSearchFindsTheLikelierSequenceAndReordersTheCache) {
  MarkovDecoder decoder = GreedyIsNotBest();
  // Scores are plain probabilities here: with length_penalty 1 (sum / length)
  // a long run of A (0.5 each) would come to beat [B] as it grows.
  GenerationOptions o = Options(2);
  o.length_penalty = 0;
  auto g = TokenGenerator(o).Generate(decoder, {kStart});
  ASSERT_OK(g);
  EXPECT_EQ(g->tokens, Tokens({kB}));
  EXPECT_TRUE(g->stopped);
  EXPECT_NEAR(g->sum_log_prob, std::log(0.4) + std::log(0.9), 1e-6);
  ASSERT_FALSE(decoder.reorders.empty());
  EXPECT_EQ(decoder.reorders.front(), std::vector<int>({0, 0})) << "both beams grow from the first";
}

TEST(TokenGenerator, ARepetitionPenaltyTurnsGreedyAwayFromRepeating) {
  // Logits (not probabilities) of 2 and 1.5: dividing A's by 2 makes B win.
  MarkovDecoder decoder({{kStart, {{kA, std::exp(2.0)}, {kB, std::exp(1.0)}}},
                         {kA, {{kA, std::exp(2.0)}, {kB, std::exp(1.5)}}},
                         {kB, {{kEnd, std::exp(3.0)}}}});
  auto plain = TokenGenerator(Options(1, 3)).Generate(decoder, {kStart});
  ASSERT_OK(plain);
  EXPECT_EQ(plain->tokens, Tokens({kA, kA, kA}));
  EXPECT_FALSE(plain->stopped) << "max_new_tokens ended it";
  GenerationOptions o = Options(1, 3);
  o.repetition_penalty = 2.0;
  auto penalized = TokenGenerator(o).Generate(decoder, {kStart});
  ASSERT_OK(penalized);
  EXPECT_EQ(penalized->tokens, Tokens({kA, kB}));
  EXPECT_TRUE(penalized->stopped);
}

TEST(TokenGenerator, SuppressedTokensAreNeverChosenAndBeginSuppressedOnlyFirst) {
  GenerationOptions o = Options(1, 4);
  o.suppress_tokens = {kB};        // B is the likeliest after A
  o.begin_suppress_tokens = {kA};  // A is the likeliest first
  auto g =
      TokenGenerator(o).Generate(*std::make_unique<MarkovDecoder>(GreedyIsNotBest()), {kStart});
  ASSERT_OK(g);
  // First C (A barred), then the end; later steps may take A again.
  EXPECT_EQ(g->tokens, Tokens({kC}));
  EXPECT_TRUE(g->stopped);
  MarkovDecoder loop({{kStart, {{kA, 0.6}, {kB, 0.4}}},
                      {kB, {{kA, 0.9}, {kEnd, 0.1}}},
                      {kA, {{kA, 0.9}, {kEnd, 0.1}}}});
  GenerationOptions first = Options(1, 3);
  first.begin_suppress_tokens = {kA};
  auto later = TokenGenerator(first).Generate(loop, {kStart});
  ASSERT_OK(later);
  EXPECT_EQ(later->tokens, Tokens({kB, kA, kA}));
  // Beam search honours them too.
  GenerationOptions beams = Options(2, 4);
  beams.suppress_tokens = {kB};
  auto b =
      TokenGenerator(beams).Generate(*std::make_unique<MarkovDecoder>(GreedyIsNotBest()), {kStart});
  ASSERT_OK(b);
  EXPECT_EQ(std::count(b->tokens.begin(), b->tokens.end(), kB), 0);
}

TEST(TokenGenerator, MaxNewTokensBoundsBeamSearchToo) {
  // After the first A: AAA 0.216, then AAB 0.144, the rest 0.12 or less.
  MarkovDecoder loop(
      {{kStart, {{kA, 1.0}}}, {kA, {{kA, 0.6}, {kB, 0.4}}}, {kB, {{kA, 0.5}, {kB, 0.5}}}});
  auto g = TokenGenerator(Options(3, 4)).Generate(loop, {kStart});
  ASSERT_OK(g);
  EXPECT_EQ(g->tokens.size(), 4u);
  EXPECT_FALSE(g->stopped);
  EXPECT_EQ(g->tokens, Tokens({kA, kA, kA, kA})) << "the likeliest of the running beams";
  EXPECT_EQ(loop.steps, 4);
}

TEST(TokenGenerator, BadOptionsAndDecoderFailuresAreErrors) {
  MarkovDecoder decoder = GreedyIsNotBest();
  EXPECT_EQ(TokenGenerator(Options(1)).Generate(decoder, {}).status().code(),
            ErrorCode::kInvalidRequest);
  EXPECT_FALSE(TokenGenerator(Options(0)).Generate(decoder, {kStart}).ok());
  EXPECT_FALSE(TokenGenerator(Options(1, 0)).Generate(decoder, {kStart}).ok());
  GenerationOptions o = Options(1);
  o.repetition_penalty = 0;
  EXPECT_FALSE(TokenGenerator(o).Generate(decoder, {kStart}).ok());
  decoder.fail = true;
  for (int beams : {1, 3}) {
    auto g = TokenGenerator(Options(beams)).Generate(decoder, {kStart});
    EXPECT_EQ(g.status().code(), ErrorCode::kOutOfMemory);
  }
}

// From kStart: A, B or C at a third each, then the end: what sampling draws.
MarkovDecoder ThreeWays() {
  return MarkovDecoder({{kStart, {{kA, 1.0 / 3}, {kB, 1.0 / 3}, {kC, 1.0 / 3}}},
                        {kA, {{kEnd, 1.0}}},
                        {kB, {{kEnd, 1.0}}},
                        {kC, {{kEnd, 1.0}}}});
}

TEST(TokenGenerator, SamplingDrawsByTheSeedAndCoversTheLikelyTokens) {
  std::map<int64_t, int> drawn;
  for (uint64_t seed = 0; seed < 60; ++seed) {
    GenerationOptions o = Options(4);  // beams do not apply to sampling
    o.temperature = 1.0;
    o.seed = seed;
    MarkovDecoder once = ThreeWays(), again = ThreeWays();
    auto a = TokenGenerator(o).Generate(once, {kStart});
    auto b = TokenGenerator(o).Generate(again, {kStart});
    ASSERT_OK(a);
    ASSERT_OK(b);
    EXPECT_EQ(a->tokens, b->tokens) << "seed " << seed;
    ASSERT_EQ(a->tokens.size(), 1u);
    EXPECT_NEAR(a->sum_log_prob, std::log(1.0 / 3), 1e-6) << "log-probabilities untempered";
    ++drawn[a->tokens[0]];
  }
  // Each of three equal tokens, in 60 draws: missing one has odds of 3e-10.
  EXPECT_EQ(drawn.size(), 3u);
}

TEST(TokenGenerator, ACoolTemperatureSamplesWhatGreedyTakesAndABadOneIsRefused) {
  GenerationOptions o = Options(1);
  o.temperature = 0.01;  // A's 0.5 against B's 0.4: (5/4)^100 to one
  MarkovDecoder decoder = GreedyIsNotBest();
  auto g = TokenGenerator(o).Generate(decoder, {kStart});
  ASSERT_OK(g);
  EXPECT_EQ(g->tokens, Tokens({kA}));
  for (double bad : {-0.5, 2.5, std::nan("")}) {
    o.temperature = bad;
    EXPECT_EQ(TokenGenerator(o).Generate(decoder, {kStart}).status().code(),
              ErrorCode::kInvalidRequest);
  }
}

// Forbids A once anything was generated, and records what it saw.
class NoSecondA : public ScoreRule {
 public:
  void Apply(std::vector<float>& scores, std::span<const int64_t> generated) const override {
    Forbid(scores, generated);
  }
  void Apply(std::vector<double>& scores, std::span<const int64_t> generated) const override {
    Forbid(scores, generated);
  }
  mutable std::vector<size_t> seen;  // generated.size() at each call

 private:
  template <typename T>
  void Forbid(std::vector<T>& scores, std::span<const int64_t> generated) const {
    seen.push_back(generated.size());
    if (!generated.empty()) scores[kA] = -INFINITY;
  }
};

TEST(TokenGenerator, AScoreRuleSeesOnlyTheGeneratedTokensAndForbidsInBothModes) {
  // After A, A would repeat (0.9); the rule forbids it, so B follows.
  MarkovDecoder table({{kStart, {{kA, 1.0}}}, {kA, {{kA, 0.9}, {kB, 0.1}}}, {kB, {{kEnd, 1.0}}}});
  for (int beams : {1, 2}) {
    NoSecondA rule;
    GenerationOptions o = Options(beams);
    o.rule = &rule;
    auto g = TokenGenerator(o).Generate(table, {kStart, kStart});
    ASSERT_OK(g);
    EXPECT_EQ(g->tokens, Tokens({kA, kB})) << beams << " beams";
    ASSERT_FALSE(rule.seen.empty());
    EXPECT_EQ(rule.seen.front(), 0u) << "the prompt is not generated";
  }
}

}  // namespace
}  // namespace botmodels
