// ScriptDecoder over the stand-ins' decoder parts (models/standins/): the
// cached form (each step runs only the new tokens, the cache follows beam
// search) decodes as the old uncached form of the same weights does.
#include "models/pipelines/script_decoder.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "models/pipelines/token_generator.h"
#include "models/torchscript/script_model.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

using testing::TestDevice;

namespace fs = std::filesystem;

// Logits of one sequence from the two forms differ by rounding (other
// matrix shapes): far less than this, for logits of magnitude ~10.
constexpr double kTolerance = 1e-3;

class CachedDecoder : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(device_.Open(0));
    auto cached = device_.Load(Part("whisper-standin/decoder.pt"));
    auto uncached = device_.Load(Part("whisper-standin/decoder_uncached.pt"));
    ASSERT_OK(cached);
    ASSERT_OK(uncached);
    cached_ = std::move(*cached);
    uncached_ = std::move(*uncached);
    torch::manual_seed(7);
    states_ = torch::randn({1, 1500, 32}).to(device_.device());
  }
  static std::string Part(const std::string& name) {
    return std::string(BOTMODELS_STANDIN_MODELS) + "/" + name;
  }
  // What `options` generate from the Whisper prompt, with each form.
  std::pair<Generated, Generated> GenerateBoth(const GenerationOptions& options) {
    const TokenGenerator generator(options);
    const Tokens prompt{50257, 50258, 50262, 50264};
    ScriptDecoder cached(cached_, states_, device_), uncached(uncached_, states_, device_);
    auto a = generator.Generate(cached, prompt);
    auto b = generator.Generate(uncached, prompt);
    EXPECT_OK(a);
    EXPECT_OK(b);
    return {a.ok() ? *a : Generated{}, b.ok() ? *b : Generated{}};
  }

  TorchDevice device_{TestDevice(), "decoder-test"};
  torch::jit::Module cached_, uncached_;
  torch::Tensor states_;
};

TEST_F(CachedDecoder, TheStandInsPartsAreTheCachedAndTheOldForm) {
  EXPECT_TRUE(ScriptDecoder::HasCache(cached_));
  EXPECT_FALSE(ScriptDecoder::HasCache(uncached_));
}

TEST_F(CachedDecoder, EachStepsLogitsEqualTheWholeSequencesRun) {
  ScriptDecoder cached(cached_, states_, device_), uncached(uncached_, states_, device_);
  Tokens sequence{50257, 50258, 50262, 50264};
  for (int step = 0; step < 30; ++step) {
    auto a = cached.Logits(sequence);
    auto b = uncached.Logits(sequence);
    ASSERT_OK(a);
    ASSERT_OK(b);
    ASSERT_EQ(a->sizes(), b->sizes());
    EXPECT_TRUE(torch::allclose(*a, *b, 0, kTolerance)) << "step " << step;
    sequence.push_back(a->argmax().item<int64_t>());
  }
}

TEST_F(CachedDecoder, GreedyDecodingGivesTheSameTokens) {
  GenerationOptions options;
  options.max_new_tokens = 60;
  options.stop_tokens = {50256};
  const auto [cached, uncached] = GenerateBoth(options);
  EXPECT_EQ(cached.tokens, uncached.tokens);
  EXPECT_NEAR(cached.sum_log_prob, uncached.sum_log_prob, 1e-2);
}

TEST_F(CachedDecoder, BeamSearchReordersTheCacheAndGivesTheSameTokens) {
  GenerationOptions options;
  options.max_new_tokens = 24;
  options.beams = 4;
  options.stop_tokens = {50256};
  const auto [cached, uncached] = GenerateBoth(options);
  EXPECT_EQ(cached.tokens, uncached.tokens);
  EXPECT_NEAR(cached.sum_log_prob, uncached.sum_log_prob, 1e-2);
}

TEST_F(CachedDecoder, ASequenceThatDoesNotContinueTheCacheStartsANewOne) {
  ScriptDecoder cached(cached_, states_, device_), uncached(uncached_, states_, device_);
  for (const Tokens& sequence : {Tokens{50257, 11, 12}, Tokens{50257, 11, 12, 13},
                                 Tokens{50257, 99}, Tokens{50257, 99}, Tokens{7}}) {
    auto a = cached.Logits(sequence);
    auto b = uncached.Logits(sequence);
    ASSERT_OK(a);
    ASSERT_OK(b);
    EXPECT_TRUE(torch::allclose(*a, *b, 0, kTolerance)) << sequence.size() << " tokens";
  }
}

// A cached part whose logits count the tokens each call runs.
class CountingPart : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(device_.Open(0));
    path_ = dir_ / "counting.pt";
    SaveScript(path_, R"(
def cross(self, states):
    return torch.zeros([1, 2, 1, 1, states.size(1), 1])

def forward(self, tokens, cross, cache):
    rows = tokens.size(0)
    count = float(tokens.size(1))
    new = torch.zeros([1, 2, rows, 1, tokens.size(1), 1])
    return torch.full([rows, 4], count), torch.cat([cache, new], 4)
)",
               {});
    auto part = device_.Load(path_);
    ASSERT_OK(part);
    part_ = std::move(*part);
  }
  TorchDevice device_{"cpu", "counting"};
  testing::TempDir dir_;
  std::string path_;
  torch::jit::Module part_;
};

TEST_F(CountingPart, EachStepRunsOnlyTheTokensTheCacheLacks) {
  ScriptDecoder decoder(part_, torch::zeros({1, 3, 2}), device_);
  const auto ran = [&](const std::vector<Tokens>& sequences) {
    auto logits = decoder.NextLogits(sequences);
    EXPECT_OK(logits);
    return logits.ok() ? logits->front().front() : -1.0f;
  };
  EXPECT_EQ(ran({{1, 2, 3}}), 3);
  EXPECT_EQ(ran({{1, 2, 3, 4}}), 1);
  // Three beams continue the one cached row.
  EXPECT_EQ(ran({{1, 2, 3, 4, 5}, {1, 2, 3, 4, 6}, {1, 2, 3, 4, 7}}), 1);
  decoder.Reorder({2, 2, 0});
  EXPECT_EQ(ran({{1, 2, 3, 4, 7, 8}, {1, 2, 3, 4, 7, 9}, {1, 2, 3, 4, 5, 8}}), 1);
  // A row the cache does not hold: every token runs again.
  EXPECT_EQ(ran({{1, 2, 3, 4, 7, 8, 1}, {1, 2, 3, 4, 6, 9, 1}, {1, 2, 3, 4, 5, 8, 1}}), 7);
}

TEST_F(CountingPart, APartBreakingTheCacheContractIsAnError) {
  SaveScript(path_, R"(
def cross(self, states):
    return torch.zeros([1, 2, 1, 1, states.size(1), 1])

def forward(self, tokens, cross, cache):
    return torch.zeros([tokens.size(0), 4]), cache
)",
             {});
  auto part = device_.Load(path_);
  ASSERT_OK(part);
  ScriptDecoder decoder(*part, torch::zeros({1, 3, 2}), device_);
  auto logits = decoder.NextLogits({{1, 2}});
  ASSERT_FALSE(logits.ok());
  EXPECT_EQ(logits.status().code(), ErrorCode::kInternal);
  EXPECT_NE(logits.status().message().find("cache"), std::string::npos);
}

}  // namespace
}  // namespace botmodels
