#include "gateway/openai/transcript.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/value.h"

namespace botmodels {
namespace {

using nlohmann::json;
using protocol::DType;

protocol::Tensor Value(const json& j) { return {DType::kValue, {}, *JsonToValue(j.dump())}; }

protocol::NamedTensors SttOutputs() {
  // Two phrases: a pause of 1.2 s after "world".
  return {
      {"text", {DType::kString, {}, "hello world good morning"}},
      {"language", {DType::kString, {}, "en-us"}},
      {"duration_s", Value(4.0)},
      {"words", Value(json::array({
                    {{"word", "hello"}, {"start_s", 0.1}, {"end_s", 0.5}, {"confidence", 0.9}},
                    {{"word", "world"}, {"start_s", 0.5}, {"end_s", 1.0}, {"confidence", 0.7}},
                    {{"word", "good"}, {"start_s", 2.2}, {"end_s", 2.5}, {"confidence", 1.0}},
                    {{"word", "morning"}, {"start_s", 2.5}, {"end_s", 3.1}, {"confidence", 1.0}},
                }))}};
}

TEST(Transcript, SttWordsBecomePhrasesAtPausesWithTheirTimes) {
  const Transcript t = ReadTranscript(SttOutputs());
  EXPECT_EQ(t.text, "hello world good morning");
  EXPECT_EQ(t.language, "en-us");
  EXPECT_DOUBLE_EQ(t.duration_s, 4.0);
  ASSERT_EQ(t.segments.size(), 2u);
  EXPECT_EQ(t.segments[0].cue.text, "hello world");
  EXPECT_DOUBLE_EQ(t.segments[0].cue.start_s, 0.1);
  EXPECT_DOUBLE_EQ(t.segments[0].cue.end_s, 1.0);
  EXPECT_NEAR(*t.segments[0].avg_logprob, std::log(0.8), 1e-9);
  EXPECT_EQ(t.segments[1].cue.text, "good morning");
  ASSERT_EQ(t.words.size(), 4u);
  EXPECT_EQ(t.words[3].word, "morning");
}

TEST(Transcript, WhisperSegmentsKeepTheirTokensAndLogProbabilities) {
  const Transcript t =
      ReadTranscript({{"text", {DType::kString, {}, " Hi there."}},
                      {"language", {DType::kString, {}, "en"}},
                      {"segments", Value(json::array({{{"start_s", 0.0},
                                                       {"end_s", 30.0},
                                                       {"text", " Hi there."},
                                                       {"avg_log_prob", -0.25},
                                                       {"tokens", {50364, 2421}}}}))}});
  ASSERT_EQ(t.segments.size(), 1u);
  EXPECT_EQ(t.segments[0].tokens, (std::vector<int64_t>{50364, 2421}));
  EXPECT_DOUBLE_EQ(*t.segments[0].avg_logprob, -0.25);
  EXPECT_TRUE(t.words.empty());
}

TEST(Transcript, EachResponseFormatIsShapedAsOpenAiShapesIt) {
  const Transcript t = ReadTranscript(SttOutputs());
  EXPECT_EQ(json::parse(TranscriptResponse(t, "json", false).body),
            json({{"text", "hello world good morning"}}));
  const HttpResponse text = TranscriptResponse(t, "text", false);
  EXPECT_EQ(text.body, "hello world good morning\n");
  EXPECT_EQ(text.headers.Get("Content-Type").substr(0, 10), "text/plain");
  EXPECT_EQ(TranscriptResponse(t, "srt", false).body.substr(0, 2), "1\n");
  EXPECT_EQ(TranscriptResponse(t, "vtt", false).body.substr(0, 8), "WEBVTT\n\n");
  const json verbose = json::parse(TranscriptResponse(t, "verbose_json", true).body);
  EXPECT_EQ(verbose["task"], "transcribe");
  EXPECT_EQ(verbose["duration"], 4.0);
  ASSERT_EQ(verbose["segments"].size(), 2u);
  EXPECT_EQ(verbose["segments"][1]["id"], 1);
  EXPECT_EQ(verbose["segments"][1]["start"], 2.2);
  EXPECT_EQ(verbose["words"][0], json({{"word", "hello"}, {"start", 0.1}, {"end", 0.5}}));
  EXPECT_FALSE(json::parse(TranscriptResponse(t, "verbose_json", false).body).contains("words"));
  EXPECT_TRUE(IsTranscriptFormat("vtt"));
  EXPECT_FALSE(IsTranscriptFormat("mp3"));
}

}  // namespace
}  // namespace botmodels
