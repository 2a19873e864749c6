// The Whisper and captioning pipelines behind a real broker, in
// botmodels-worker processes, on their stand-in models (random weights,
// real tokenizers): each reply equals an independent computation in the
// test (the parts run by hand with libtorch, the decoding loop written
// out here), and bad input costs only its own request.
#include <gtest/gtest.h>
#include <sndfile.h>
#include <torch/script.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <numeric>

#include "common/value.h"
#include "models/pipelines/bpe_tokenizer.h"
#include "models/pipelines/log_mel.h"
#include "models/pipelines/text_stream.h"
#include "models/pipelines/wordpiece_tokenizer.h"
#include "testing/media.h"
#include "tests/broker_harness.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

using nlohmann::json;
using protocol::DType;
using testing::BrokerHarness;
namespace fs = std::filesystem;

constexpr int kRate = 16000;
// Logits closer than this may order differently in the worker (other
// threads, other kernels): the comparison stops at such a near tie.
constexpr float kTie = 1e-3f;

protocol::Tensor Bytes(std::string s) { return {DType::kBytes, {}, std::move(s)}; }
protocol::Tensor Text(std::string s) { return {DType::kString, {}, std::move(s)}; }
json Value(const protocol::NamedTensors& outputs, const std::string& name) {
  return json::parse(ValueToJson(outputs.at(name).data));
}
std::string Standin(const std::string& name) {
  return std::string(BOTMODELS_STANDIN_MODELS) + "/" + name;
}

// A rising tone (a chirp) of `seconds` at 16 kHz.
std::vector<int16_t> Chirp(double seconds) {
  std::vector<int16_t> samples(static_cast<size_t>(seconds * kRate));
  for (size_t i = 0; i < samples.size(); ++i) {
    const double t = static_cast<double>(i) / kRate;
    samples[i] = static_cast<int16_t>(9000 * std::sin(2 * M_PI * (200 + 150 * t) * t));
  }
  return samples;
}

std::string Png(int side) {
  PixPtr pix(pixCreate(side, side, 32));
  for (int y = 0; y < side; ++y) {
    for (int x = 0; x < side; ++x)
      pixSetRGBPixel(pix.get(), x, y, 4 * x, 255 - 4 * y, (x * y) % 256);
  }
  return media::PixToPng(pix.get());
}

// Greedy decoding written out: the argmax of each step's logits (tokens in
// `barred` never, `barred_first` not first), until `stop` or `max` tokens.
// `near_tie` is set to the step at which the top two logits were within kTie.
struct Decoded {
  std::vector<int64_t> tokens;
  int near_tie = -1;
};
Decoded Greedy(torch::jit::Module& decoder, const torch::Tensor& states,
               std::vector<int64_t> sequence, int64_t stop, int max,
               const std::vector<int64_t>& barred = {},
               const std::vector<int64_t>& barred_first = {}) {
  Decoded d;
  for (int step = 0; step < max; ++step) {
    torch::Tensor logits =
        decoder.forward({torch::tensor(sequence).unsqueeze(0), states}).toTensor()[0].clone();
    for (int64_t t : barred) logits[t] = -INFINITY;
    if (step == 0) {
      for (int64_t t : barred_first) logits[t] = -INFINITY;
    }
    const auto top = logits.topk(2);
    const float gap = (std::get<0>(top)[0] - std::get<0>(top)[1]).item<float>();
    if (gap < kTie && d.near_tie < 0) d.near_tie = step;
    const int64_t token = std::get<1>(top)[0].item<int64_t>();
    if (token == stop) break;
    d.tokens.push_back(token);
    sequence.push_back(token);
  }
  return d;
}

// The reply's tokens equal the independent ones, up to a near tie.
void ExpectSameTokens(const json& got, const Decoded& want) {
  const auto tokens = got.get<std::vector<int64_t>>();
  const size_t agree =
      want.near_tie < 0 ? want.tokens.size() + 1 : static_cast<size_t>(want.near_tie);
  for (size_t i = 0; i < std::min({agree, tokens.size(), want.tokens.size()}); ++i) {
    EXPECT_EQ(tokens[i], want.tokens[i]) << "token " << i;
  }
  if (want.near_tie < 0) {
    EXPECT_EQ(tokens, want.tokens);
  }
}

class Pipelines : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"whisper-standin", "caption-standin", "vqa-standin"}) {
      fs::copy(Standin(name), broker_.repository() + "/" + name, fs::copy_options::recursive);
    }
    ASSERT_NO_FATAL_FAILURE(broker_.Start(3));
    client_ = broker_.NewClient();
  }
  BrokerHarness broker_;
  std::unique_ptr<Client> client_;
};

TEST_F(Pipelines, WhisperTranscribesAsAnIndependentDecodeOfItsParts) {
  const auto samples = Chirp(12);
  auto out = client_->Infer(
      "whisper-standin",
      {{"audio", Bytes(media::EncodeAudio(samples, kRate, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16))}});
  ASSERT_OK(out);

  // By hand: the log-mel of the zero-padded window, the encoder, the
  // likeliest of the three language tokens at <|startoftranscript|>, then
  // greedy decoding from <|sot|> <|lang|> <|transcribe|> <|notimestamps|>.
  torch::NoGradGuard no_grad;
  auto encoder = torch::jit::load(Standin("whisper-standin/encoder.pt"));
  auto decoder = torch::jit::load(Standin("whisper-standin/decoder_uncached.pt"));
  std::vector<float> audio(samples.begin(), samples.end());
  for (float& x : audio) x /= 32768.0f;
  const torch::Tensor mel = LogMel(80).Compute(LogMel::PadOrTrim(audio, LogMel::kWindowSamples));
  const torch::Tensor states = encoder.forward({mel.unsqueeze(0)}).toTensor();
  const torch::Tensor first =
      decoder.forward({torch::tensor({int64_t{50257}}).unsqueeze(0), states}).toTensor()[0];
  const std::map<int64_t, std::string> languages{{50258, "en"}, {50259, "pt"}, {50260, "de"}};
  const int64_t language = 50258 + first.slice(0, 50258, 50261).argmax().item<int64_t>();
  EXPECT_EQ(out->at("language").data, languages.at(language));
  // Every special token but the end is barred (50257-51766: without
  // timestamps, they too); a space or the end never comes first (the
  // stand-in's begin_suppress_tokens).
  std::vector<int64_t> specials(51767 - 50257);
  std::iota(specials.begin(), specials.end(), 50257);
  const Decoded want =
      Greedy(decoder, states, {50257, language, 50262, 50264}, 50256, 8, specials, {220, 50256});

  const json segments = Value(*out, "segments");
  ASSERT_EQ(segments.size(), 1u);
  EXPECT_EQ(segments[0]["start_s"], 0.0);
  EXPECT_EQ(segments[0]["end_s"], 12.0);
  ExpectSameTokens(segments[0]["tokens"], want);
  if (want.near_tie < 0) {
    auto gpt2 = BpeTokenizer::Load(Standin("whisper-standin/vocab.json"),
                                   Standin("whisper-standin/merges.txt"));
    ASSERT_OK(gpt2);
    EXPECT_EQ(out->at("text").data, Trimmed(ValidUtf8(gpt2->Decode(want.tokens))));
  }
}

TEST_F(Pipelines, CaptionAndVqaAnswerAsAnIndependentDecodeOfTheirParts) {
  const std::string png = Png(64);  // the stand-ins' own size: no resizing
  auto caption = client_->Infer("caption-standin", {{"image", Bytes(png)}});
  ASSERT_OK(caption);
  auto answer =
      client_->Infer("vqa-standin", {{"image", Bytes(png)}, {"question", Text("Is it a cat?")}});
  ASSERT_OK(answer);

  // By hand: RGB in [0, 1] normalized by BLIP's mean and std, the vision
  // encoder, then greedy decoding from [DEC] (30522) to [SEP] (102); for
  // VQA the decoder reads the question encoder's states of [CLS] q [SEP].
  torch::NoGradGuard no_grad;
  torch::Tensor pixels = torch::empty({1, 3, 64, 64});
  for (int y = 0; y < 64; ++y) {
    for (int x = 0; x < 64; ++x) {
      const int rgb[3] = {4 * x, 255 - 4 * y, (x * y) % 256};
      const double mean[3] = {0.48145466, 0.4578275, 0.40821073};
      const double std[3] = {0.26862954, 0.26130258, 0.27577711};
      for (int c = 0; c < 3; ++c) pixels[0][c][y][x] = (rgb[c] / 255.0 - mean[c]) / std[c];
    }
  }
  auto vision = torch::jit::load(Standin("caption-standin/vision_encoder.pt"));
  auto decoder = torch::jit::load(Standin("caption-standin/text_decoder_uncached.pt"));
  const torch::Tensor image = vision.forward({pixels}).toTensor();
  const Decoded want_caption = Greedy(decoder, image, {30522}, 102, 12);
  ExpectSameTokens(Value(*caption, "tokens"), want_caption);
  auto bert = WordPieceTokenizer::Load(Standin("caption-standin/vocab.txt"), true);
  ASSERT_OK(bert);
  if (want_caption.near_tie < 0) {
    EXPECT_EQ(caption->at("text").data, bert->Decode(want_caption.tokens, true));
  }

  auto question_encoder = torch::jit::load(Standin("vqa-standin/question_encoder.pt"));
  std::vector<int64_t> question{101};
  for (int64_t t : bert->Encode("Is it a cat?")) question.push_back(t);
  question.push_back(102);
  const torch::Tensor asked =
      question_encoder.forward({torch::tensor(question).unsqueeze(0), image}).toTensor();
  ExpectSameTokens(Value(*answer, "tokens"), Greedy(decoder, asked, {30522}, 102, 12));
  EXPECT_EQ(Value(*caption, "image")["width"], 64);
}

TEST_F(Pipelines, TextStreamsInPiecesThatJoinIntoTheFinalText) {
  protocol::Request request;
  request.op = protocol::Op::kInfer;
  request.model = "whisper-standin";
  request.inputs["audio"] =
      Bytes(media::EncodeAudio(Chirp(45), kRate, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16));
  std::string streamed;
  int partials = 0;
  auto reply = client_->Stream(std::move(request), [&](const protocol::Reply& partial) {
    ++partials;
    ASSERT_EQ(partial.outputs.count("text"), 1u);
    streamed += partial.outputs.at("text").data;
  });
  ASSERT_OK(reply);
  ASSERT_TRUE(reply->status.ok()) << reply->status.message();
  const std::string text = reply->outputs.at("text").data;
  EXPECT_GT(partials, 0);
  EXPECT_FALSE(streamed.empty());
  EXPECT_EQ(text.substr(0, streamed.size()), streamed);
  EXPECT_EQ(Value(reply->outputs, "segments").size(), 2u);
}

TEST_F(Pipelines, BadInputGetsAClearErrorAndTheWorkersServeOn) {
  const auto wav = [](const std::vector<int16_t>& s) {
    return Bytes(media::EncodeAudio(s, kRate, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16));
  };
  auto silence =
      client_->Infer("whisper-standin", {{"audio", wav(std::vector<int16_t>(kRate * 5))}});
  ASSERT_OK(silence);
  EXPECT_EQ(silence->at("text").data, "");
  auto too_long = client_->Infer("whisper-standin", {{"audio", wav(Chirp(130))}});
  EXPECT_EQ(too_long.status().code(), ErrorCode::kInvalidRequest) << "past max_seconds (120)";
  auto tiny = client_->Infer("caption-standin", {{"image", Bytes(Png(1))}});
  ASSERT_OK(tiny);
  auto empty = client_->Infer("vqa-standin", {{"image", Bytes(Png(8))}, {"question", Text("")}});
  EXPECT_EQ(empty.status().code(), ErrorCode::kInvalidRequest);
  std::string long_prompt;
  for (int i = 0; i < 100; ++i) long_prompt += "a dog and ";
  auto past_context =
      client_->Infer("caption-standin", {{"image", Bytes(Png(8))}, {"prompt", Text(long_prompt)}});
  EXPECT_EQ(past_context.status().code(), ErrorCode::kInvalidRequest);
  const auto before = broker_.Worker("whisper-standin-0").pid;
  ASSERT_OK(client_->Infer("whisper-standin", {{"audio", wav(Chirp(2))}}));
  EXPECT_EQ(broker_.Worker("whisper-standin-0").pid, before) << "the same worker served on";
}

TEST_F(Pipelines, TheCliTranscribesAFileAndAsksAQuestion) {
  testing::TempDir dir;
  testing::WriteFile(dir / "note.wav",
                     media::EncodeAudio(Chirp(3), kRate, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16));
  testing::WriteFile(dir / "photo.png", Png(32));
  auto run = testing::RunCli(broker_, {"infer", "whisper-standin", "--file", dir / "note.wav"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const json transcript = json::parse(run.out)["outputs"];
  EXPECT_TRUE(transcript["text"].is_string());
  EXPECT_EQ(transcript["segments"].size(), 1u);
  run = testing::RunCli(broker_, {"infer", "vqa-standin", "--file", dir / "photo.png", "--question",
                                  "what is it?", "--stream"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(json::parse(run.out)["outputs"]["text"].is_string());
  run = testing::RunCli(broker_, {"infer", "caption-standin", "--file", dir / "photo.png",
                                  "--question", "what is it?"});
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.err.find("question"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace botmodels
