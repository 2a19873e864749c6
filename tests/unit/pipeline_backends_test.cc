// The Whisper and captioning pipelines in process, on their stand-in models
// (models/standins/standin_models.h: random weights, real tokenizers):
// what the outputs must hold whatever the weights, bad input, bad parts.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/value.h"
#include "models/pipelines/caption_backend.h"
#include "models/pipelines/log_mel.h"
#include "models/pipelines/script_decoder.h"
#include "models/pipelines/whisper_backend.h"
#include "models/registry/model_config.h"
#include "models/worker_backends.h"
#include "testing/media.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

using nlohmann::json;
using namespace testing;
using media::EncodeAudio;
using media::PixToPng;
using media::PngHeaderClaiming;
namespace fs = std::filesystem;

constexpr int kRate = 16000;

ModelConfig Standin(const std::string& name) {
  auto config = LoadModelConfig(std::string(BOTMODELS_STANDIN_MODELS) + "/" + name);
  if (!config.ok()) throw std::runtime_error(config.status().message());
  return *config;
}

// A 440 Hz tone of `seconds`, WAV.
std::string Tone(double seconds, double amplitude = 0.3) {
  std::vector<int16_t> samples(static_cast<size_t>(seconds * kRate));
  for (size_t i = 0; i < samples.size(); ++i) {
    samples[i] = static_cast<int16_t>(amplitude * 32767 * std::sin(2 * M_PI * 440 * i / kRate));
  }
  return EncodeAudio(samples, kRate, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
}

protocol::Tensor Bytes(std::string data) { return {protocol::DType::kBytes, {}, std::move(data)}; }
protocol::Tensor String(std::string s) { return {protocol::DType::kString, {}, std::move(s)}; }
protocol::Tensor Number(double x) {
  return {protocol::DType::kValue, {}, ValueWriter().Double(x).Take()};
}
json Value(const protocol::NamedTensors& outputs, const std::string& name) {
  return json::parse(ValueToJson(outputs.at(name).data));
}

WhisperBackend& Whisper() {
  static WhisperBackend* backend = [] {
    auto* b = new WhisperBackend(Standin("whisper-standin"), TestDevice());
    if (Status s = b->Load(); !s.ok()) throw std::runtime_error(s.message());
    return b;
  }();
  return *backend;
}

TEST(WhisperBackend, TranscribesEachThirtySecondWindowIntoASegment) {
  auto out = RunModel(Whisper(), {{"audio", Bytes(Tone(70))}});
  ASSERT_OK(out);
  const json segments = Value(*out, "segments");
  ASSERT_EQ(segments.size(), 3u);
  EXPECT_EQ(segments[0]["start_s"], 0.0);
  EXPECT_EQ(segments[1]["start_s"], 30.0);
  EXPECT_EQ(segments[2]["end_s"], 70.0);
  std::string joined;
  for (const json& s : segments) {
    EXPECT_LE(s["tokens"].size(), 8u) << "max_new_tokens of the stand-in";
    EXPECT_LE(s["avg_log_prob"].template get<double>(), 0.0);
    const std::string text = s["text"];
    if (!text.empty()) joined += (joined.empty() ? "" : " ") + text;
  }
  EXPECT_EQ(out->at("text").data, joined);
  const std::string language = out->at("language").data;
  EXPECT_TRUE(language == "en" || language == "pt" || language == "de") << language;
  const double sure = Value(*out, "language_probability");
  EXPECT_GE(sure, 1.0 / 3) << "the likeliest of three";
  EXPECT_LE(sure, 1.0);
  const double confidence = Value(*out, "confidence");
  EXPECT_GT(confidence, 0.0);
  EXPECT_LE(confidence, 1.0);
  EXPECT_NEAR(Value(*out, "duration_s").template get<double>(), 70.0, 1e-6);
}

TEST(WhisperBackend, SilenceIsAnEmptyTranscriptNotAnError) {
  auto out = RunModel(Whisper(), {{"audio", Bytes(Tone(3, 0))}});
  ASSERT_OK(out);
  EXPECT_EQ(out->at("text").data, "");
  EXPECT_TRUE(Value(*out, "segments").empty());
  EXPECT_EQ(out->at("language").data, "") << "nothing heard, nothing detected";
  EXPECT_EQ(Value(*out, "confidence"), 0.0);
}

TEST(WhisperBackend, AGivenLanguageIsUsedAndAnUnknownOneRefused) {
  auto pt = RunModel(Whisper(), {{"audio", Bytes(Tone(2))}, {"language", String("pt-BR")}});
  ASSERT_OK(pt);
  EXPECT_EQ(pt->at("language").data, "pt");
  EXPECT_TRUE(Value(*pt, "language_probability").is_null()) << "given, not detected";
  auto unknown = RunModel(Whisper(), {{"audio", Bytes(Tone(2))}, {"language", String("xx")}});
  EXPECT_EQ(unknown.status().code(), ErrorCode::kInvalidRequest);
  EXPECT_NE(unknown.status().message().find("'xx'"), std::string::npos);
  auto task = RunModel(Whisper(), {{"audio", Bytes(Tone(2))}, {"task", String("summarize")}});
  EXPECT_EQ(task.status().code(), ErrorCode::kInvalidRequest);
  ASSERT_OK(RunModel(Whisper(), {{"audio", Bytes(Tone(2))}, {"task", String("translate")}}));
}

TEST(WhisperBackend, BadAudioAndBadOptionsAreRefusedAndItServesOn) {
  auto corrupt = RunModel(Whisper(), {{"audio", Bytes("RIFF....not audio")}});
  EXPECT_EQ(corrupt.status().code(), ErrorCode::kInvalidRequest);
  auto empty = RunModel(Whisper(), {{"audio", Bytes("")}});
  EXPECT_EQ(empty.status().code(), ErrorCode::kInvalidRequest);
  // The stand-in takes 120 s at most: longer audio is refused before it is decoded.
  auto long_audio = RunModel(Whisper(), {{"audio", Bytes(Tone(121))}});
  EXPECT_EQ(long_audio.status().code(), ErrorCode::kInvalidRequest);
  EXPECT_NE(long_audio.status().message().find("120"), std::string::npos) << Describe(long_audio);
  for (double beams : {0.0, 1.5, 9.0}) {
    auto bad = RunModel(Whisper(), {{"audio", Bytes(Tone(1))}, {"beams", Number(beams)}});
    EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidRequest) << beams;
  }
  auto tokens = RunModel(Whisper(), {{"audio", Bytes(Tone(1))}, {"max_new_tokens", Number(9)}});
  EXPECT_EQ(tokens.status().code(), ErrorCode::kInvalidRequest) << "past the model's 8";
  ASSERT_OK(RunModel(Whisper(), {{"audio", Bytes(Tone(1))}, {"beams", Number(3)}}));
}

TEST(WhisperBackend, StreamedPiecesJoinIntoThePrefixOfTheText) {
  const auto audio = Tone(40);
  std::string streamed;
  int pieces = 0;
  protocol::NamedTensors owned{{"audio", Bytes(audio)}};
  RequestContext request;
  request.partial = [&](const protocol::TensorViews& p) {
    streamed += std::string(p.at("text").data);
    ++pieces;
  };
  auto out = Whisper().InferRequest(protocol::ViewsOf(owned), request);
  ASSERT_OK(out);
  const std::string text(out->views.at("text").data);
  EXPECT_GT(pieces, 0);
  EXPECT_EQ(text.substr(0, streamed.size()), streamed);
  auto plain = RunModel(Whisper(), owned);
  ASSERT_OK(plain);
  EXPECT_EQ(plain->at("text").data, text) << "streaming changes nothing";
}

CaptionBackend& Captioner() {
  static CaptionBackend* backend = [] {
    auto* b = new CaptionBackend(Standin("caption-standin"), TestDevice());
    if (Status s = b->Load(); !s.ok()) throw std::runtime_error(s.message());
    return b;
  }();
  return *backend;
}

std::string Photo(int width, int height) {
  PixPtr pix(pixCreate(width, height, 32));
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      pixSetRGBPixel(pix.get(), x, y, (x * 255) / width, (y * 255) / height, 128);
    }
  }
  return PixToPng(pix.get());
}

TEST(CaptionBackend, DescribesAnImageAndContinuesAPrompt) {
  auto out = RunModel(Captioner(), {{"image", Bytes(Photo(120, 80))}});
  ASSERT_OK(out);
  EXPECT_LE(Value(*out, "tokens").size(), 12u);
  const json image = Value(*out, "image");
  EXPECT_EQ(image["width"], 120);
  EXPECT_EQ(image["height"], 80);
  EXPECT_EQ(image["format"], "PNG");
  auto prompted =
      RunModel(Captioner(), {{"image", Bytes(Photo(120, 80))}, {"prompt", String("A picture of")}});
  ASSERT_OK(prompted);
  EXPECT_EQ(prompted->at("text").data.substr(0, 12), "a picture of") << "repeated, lowercased";
  // A 1×1 image is still an image: resized like any other.
  ASSERT_OK(RunModel(Captioner(), {{"image", Bytes(Photo(1, 1))}}));
}

TEST(CaptionBackend, RefusesQuestionsTooLongPromptsAndBrokenImages) {
  auto question =
      RunModel(Captioner(), {{"image", Bytes(Photo(8, 8))}, {"question", String("what is this?")}});
  EXPECT_EQ(question.status().code(), ErrorCode::kInvalidRequest);
  std::string long_prompt;
  for (int i = 0; i < 80; ++i) long_prompt += "dog ";
  auto too_long =
      RunModel(Captioner(), {{"image", Bytes(Photo(8, 8))}, {"prompt", String(long_prompt)}});
  EXPECT_EQ(too_long.status().code(), ErrorCode::kInvalidRequest);
  EXPECT_NE(too_long.status().message().find("context"), std::string::npos);
  auto huge = RunModel(Captioner(),
                       {{"image", Bytes(Photo(8, 8))}, {"prompt", String(std::string(2001, 'a'))}});
  EXPECT_EQ(huge.status().code(), ErrorCode::kInvalidRequest);
  auto broken = RunModel(Captioner(), {{"image", Bytes("\x89PNG not really")}});
  EXPECT_EQ(broken.status().code(), ErrorCode::kInvalidRequest);
  auto bomb = RunModel(Captioner(), {{"image", Bytes(PngHeaderClaiming(100000, 100000))}});
  EXPECT_EQ(bomb.status().code(), ErrorCode::kInvalidRequest);
  ASSERT_OK(RunModel(Captioner(), {{"image", Bytes(Photo(8, 8))}}));
}

TEST(CaptionBackend, AVqaModelNeedsAQuestion) {
  CaptionBackend vqa(Standin("vqa-standin"), TestDevice());
  ASSERT_OK(vqa.Load());
  auto answer = RunModel(
      vqa, {{"image", Bytes(Photo(64, 64))}, {"question", String("What colour is the sky?")}});
  ASSERT_OK(answer);
  EXPECT_LE(Value(*answer, "tokens").size(), 12u);
  for (const char* question : {"", "   "}) {
    auto empty = RunModel(vqa, {{"image", Bytes(Photo(8, 8))}, {"question", String(question)}});
    EXPECT_EQ(empty.status().code(), ErrorCode::kInvalidRequest);
    EXPECT_NE(empty.status().message().find("question"), std::string::npos);
  }
  auto none = RunModel(vqa, {{"image", Bytes(Photo(8, 8))}});
  EXPECT_EQ(none.status().code(), ErrorCode::kInvalidRequest);
  std::string long_question = "why";
  for (int i = 0; i < 70; ++i) long_question += " and why";
  auto too_long =
      RunModel(vqa, {{"image", Bytes(Photo(8, 8))}, {"question", String(long_question)}});
  EXPECT_EQ(too_long.status().code(), ErrorCode::kInvalidRequest) << "past the encoder's 64";
  EXPECT_NE(too_long.status().message().find("question"), std::string::npos);
  ASSERT_OK(RunModel(vqa, {{"image", Bytes(Photo(8, 8))}, {"question", String("why?")}}));
}

// A copy of a stand-in in `dir`, for breaking.
ModelConfig CopyOf(const TempDir& dir, const std::string& name) {
  fs::copy(std::string(BOTMODELS_STANDIN_MODELS) + "/" + name, dir / name,
           fs::copy_options::recursive);
  auto config = LoadModelConfig(dir / name);
  if (!config.ok()) throw std::runtime_error(config.status().message());
  return *config;
}

TEST(PipelineBackends, AMissingOrBrokenPartFailsTheLoadNamingTheFile) {
  TempDir dir;
  ModelConfig whisper = CopyOf(dir, "whisper-standin");
  fs::remove(dir / "whisper-standin/decoder.pt");
  auto missing = MakeWorkerBackend(whisper, "cpu");
  ASSERT_OK(missing);
  Status s = (*missing)->Load();
  EXPECT_EQ(s.code(), ErrorCode::kModelLoadFailed);
  EXPECT_NE(s.message().find("decoder.pt"), std::string::npos) << s.message();

  ModelConfig caption = CopyOf(dir, "caption-standin");
  WriteFile(dir / "caption-standin/vision_encoder.pt", "not TorchScript");
  s = CaptionBackend(caption, "cpu").Load();
  EXPECT_EQ(s.code(), ErrorCode::kModelLoadFailed);
  EXPECT_NE(s.message().find("vision_encoder.pt"), std::string::npos) << s.message();

  WriteFile(dir / "caption-standin/added_tokens.json", "{}");
  fs::copy_file(std::string(BOTMODELS_STANDIN_MODELS) + "/caption-standin/vision_encoder.pt",
                dir / "caption-standin/vision_encoder.pt", fs::copy_options::overwrite_existing);
  s = CaptionBackend(caption, "cpu").Load();
  EXPECT_EQ(s.code(), ErrorCode::kModelLoadFailed);
  EXPECT_NE(s.message().find("[DEC]"), std::string::npos) << s.message();

  // A part that breaks its contract: an encoder where the decoder should be.
  fs::copy_file(dir / "whisper-standin/encoder.pt", dir / "whisper-standin/decoder.pt");
  s = WhisperBackend(whisper, "cpu").Load();
  EXPECT_EQ(s.code(), ErrorCode::kModelLoadFailed);
  EXPECT_NE(s.message().find("decoder.pt"), std::string::npos) << s.message();
}

// A copy of a stand-in with `line` ("key = value") in its [options], in place
// of the key's own line.
ModelConfig WithOption(const TempDir& dir, const std::string& name, const std::string& line) {
  if (!fs::exists(dir / name)) CopyOf(dir, name);
  std::ifstream in(dir / (name + "/model.toml"));
  std::string toml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string key = line.substr(0, line.find(' '));
  if (const size_t at = toml.find("\n" + key + " = "); at != std::string::npos) {
    toml.erase(at + 1, toml.find('\n', at + 1) - at);
  }
  toml.replace(toml.find("[options]\n"), 10, "[options]\n" + line + "\n");
  WriteFile(dir / (name + "/model.toml"), toml);
  auto config = LoadModelConfig(dir / name);
  if (!config.ok()) throw std::runtime_error(config.status().message());
  return *config;
}

TEST(PipelineBackends, OldExportsWithoutACacheServeTheSameTokens) {
  TempDir dir;
  WhisperBackend whisper(WithOption(dir, "whisper-standin", "decoder = \"decoder_uncached.pt\""),
                         TestDevice());
  ASSERT_OK(whisper.Load());
  const std::string audio = Tone(40);
  for (double beams : {1, 3}) {
    auto old = RunModel(whisper, {{"audio", Bytes(audio)}, {"beams", Number(beams)}});
    auto cached = RunModel(Whisper(), {{"audio", Bytes(audio)}, {"beams", Number(beams)}});
    ASSERT_OK(old);
    ASSERT_OK(cached);
    const json a = Value(*old, "segments"), b = Value(*cached, "segments");
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i]["tokens"], b[i]["tokens"]) << i;
  }
  CaptionBackend captioner(
      WithOption(dir, "caption-standin", "text_decoder = \"text_decoder_uncached.pt\""),
      TestDevice());
  ASSERT_OK(captioner.Load());
  auto old = RunModel(captioner, {{"image", Bytes(Photo(64, 48))}, {"beams", Number(2)}});
  auto cached = RunModel(Captioner(), {{"image", Bytes(Photo(64, 48))}, {"beams", Number(2)}});
  ASSERT_OK(old);
  ASSERT_OK(cached);
  EXPECT_EQ(Value(*old, "tokens"), Value(*cached, "tokens"));
}

TEST(PipelineBackends, Int8ModelsLoadQuantizedAndServe) {
  TempDir dir;
  ModelConfig whisper = CopyOf(dir, "whisper-standin");
  whisper.precision = Precision::kInt8;
  WhisperBackend int8(whisper, "cpu");
  ASSERT_OK(int8.Load());
  auto out = RunModel(int8, {{"audio", Bytes(Tone(40))}, {"beams", Number(2)}});
  ASSERT_OK(out);
  ASSERT_EQ(Value(*out, "segments").size(), 2u);
  for (const json& s : Value(*out, "segments")) EXPECT_LE(s["tokens"].size(), 8u);
  ModelConfig caption = CopyOf(dir, "caption-standin");
  caption.precision = Precision::kInt8;
  CaptionBackend captioner(caption, "cpu");
  ASSERT_OK(captioner.Load());
  ASSERT_OK(RunModel(captioner, {{"image", Bytes(Photo(64, 48))}}));
}

protocol::Tensor Flag(bool on) {
  return {protocol::DType::kValue, {}, ValueWriter().Bool(on).Take()};
}

constexpr int64_t kFirstTimestamp = 50266;  // the tiny stand-in's <|0.00|>

TEST(WhisperBackend, TimestampsCutWindowsIntoTimedSegmentsThatNeverGoBack) {
  auto out = RunModel(Whisper(), {{"audio", Bytes(Tone(70))}, {"timestamps", Flag(true)}});
  ASSERT_OK(out);
  const json segments = Value(*out, "segments");
  ASSERT_FALSE(segments.empty());
  double last_start = 0;
  std::string joined;
  for (const json& s : segments) {
    const double start = s["start_s"], end = s["end_s"];
    EXPECT_GE(start, last_start);
    EXPECT_LE(start, end);
    EXPECT_LE(end, 70.0);
    last_start = start;
    ASSERT_FALSE(s["tokens"].empty());
    EXPECT_GE(s["tokens"][0].get<int64_t>(), kFirstTimestamp) << "a segment opens on its time";
    const std::string text = s["text"];
    EXPECT_FALSE(text.empty());
    joined += (joined.empty() ? "" : " ") + text;
  }
  EXPECT_EQ(out->at("text").data, joined);
  // Without timestamps, no timestamp token is ever generated.
  auto untimed = RunModel(Whisper(), {{"audio", Bytes(Tone(40))}});
  ASSERT_OK(untimed);
  for (const json& s : Value(*untimed, "segments")) {
    for (const json& t : s["tokens"]) EXPECT_LT(t.get<int64_t>(), kFirstTimestamp);
  }
  auto bad = RunModel(Whisper(), {{"audio", Bytes(Tone(2))}, {"timestamps", Number(1)}});
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidRequest);
}

TEST(WhisperBackend, SamplingFollowsItsSeedAndFallbackTriesHotterUntilTheThresholdsPass) {
  const std::string audio = Tone(20);
  const auto sampled = [&](double seed) {
    auto out = RunModel(
        Whisper(), {{"audio", Bytes(audio)}, {"temperature", Number(0.8)}, {"seed", Number(seed)}});
    EXPECT_OK(out);
    return out.ok() ? Value(*out, "segments") : json();
  };
  const json once = sampled(1), again = sampled(1);
  ASSERT_EQ(once.size(), 1u);
  EXPECT_EQ(once[0]["tokens"], again[0]["tokens"]);
  EXPECT_EQ(once[0]["temperature"], 0.8);
  auto hot = RunModel(Whisper(), {{"audio", Bytes(audio)}, {"temperature", Number(2.5)}});
  EXPECT_EQ(hot.status().code(), ErrorCode::kInvalidRequest);

  // The stand-in decodes greedily only; a copy falls back through 0, 0.5, 1.
  auto greedy = RunModel(Whisper(), {{"audio", Bytes(audio)}});
  ASSERT_OK(greedy);
  const json g = Value(*greedy, "segments")[0];
  TempDir dir;
  WhisperBackend ladder(WithOption(dir, "whisper-standin", "temperatures = [0.0, 0.5, 1.0]"),
                        TestDevice());
  ASSERT_OK(ladder.Load());
  auto out = RunModel(ladder, {{"audio", Bytes(audio)}});
  ASSERT_OK(out);
  const json l = Value(*out, "segments")[0];
  const bool greedy_fails =
      (g["avg_log_prob"].get<double>() < -1.0 || g["compression_ratio"].get<double>() > 2.4) &&
      !(g["no_speech_prob"].get<double>() > 0.6 && g["avg_log_prob"].get<double>() < -1.0);
  if (greedy_fails) {
    EXPECT_GT(l["temperature"].get<double>(), 0.0) << "a hotter decode was tried";
  } else {
    EXPECT_EQ(l["tokens"], g["tokens"]) << "greedy passed: kept";
  }
  if (l["temperature"].get<double>() < 1.0) {  // accepted before the last: it passed
    EXPECT_GE(l["avg_log_prob"].get<double>(), -1.0);
    EXPECT_LE(l["compression_ratio"].get<double>(), 2.4);
  }
}

TEST(WhisperBackend, AHotWindowKeepsTheLikeliestOfBestOfSamplesDrawnFromSeedsCountingUp) {
  const std::string audio = Tone(20);
  TempDir one_dir, three_dir;
  WhisperBackend one(WithOption(one_dir, "whisper-standin", "best_of = 1"), TestDevice());
  WhisperBackend three(WithOption(three_dir, "whisper-standin", "best_of = 3"), TestDevice());
  ASSERT_OK(one.Load());
  ASSERT_OK(three.Load());
  const auto window = [&](WhisperBackend& backend, double seed) {
    auto out = RunModel(
        backend, {{"audio", Bytes(audio)}, {"temperature", Number(1.0)}, {"seed", Number(seed)}});
    EXPECT_OK(out);
    return out.ok() ? Value(*out, "segments")[0] : json();
  };
  // Lone samples at seeds counting up from 1, until one that best_of = 3
  // would pass over: the next two seeds' samples hold a likelier one.
  const auto likeliest = [](const json& a, const json& b) {
    return a["avg_log_prob"].get<double>() < b["avg_log_prob"].get<double>();
  };
  std::vector<json> samples{window(one, 1), window(one, 2)};
  int seed = 1;
  for (; seed <= 20; ++seed) {
    samples.push_back(window(one, seed + 2));
    const auto first = samples.end() - 3;
    if (likeliest(*first, *std::max_element(first, samples.end(), likeliest))) break;
  }
  ASSERT_LE(seed, 20) << "no seed's sample is passed over";
  const json best = *std::max_element(samples.end() - 3, samples.end(), likeliest);
  const json kept = window(three, seed);
  EXPECT_EQ(kept["tokens"], best["tokens"]);
  EXPECT_DOUBLE_EQ(kept["avg_log_prob"].get<double>(), best["avg_log_prob"].get<double>());
  EXPECT_EQ(window(three, seed)["tokens"], kept["tokens"]) << "the same seed, the same text";

  TempDir zero_dir;
  EXPECT_THROW(WithOption(zero_dir, "whisper-standin", "best_of = 0"), std::runtime_error)
      << "best_of is 1 to 16";
}

TEST(WhisperBackend, ThePreviousWindowsTextPromptsTheNext) {
  const std::string audio = Tone(45);
  auto out = RunModel(Whisper(), {{"audio", Bytes(audio)}, {"language", String("en")}});
  auto alone = RunModel(Whisper(), {{"audio", Bytes(audio)},
                                    {"language", String("en")},
                                    {"condition_on_previous_text", Flag(false)}});
  ASSERT_OK(out);
  ASSERT_OK(alone);
  const json with = Value(*out, "segments"), without = Value(*alone, "segments");
  ASSERT_EQ(with.size(), 2u);
  ASSERT_EQ(without.size(), 2u);
  EXPECT_EQ(with[0]["tokens"], without[0]["tokens"]) << "nothing before the first window";

  // The second window decoded by hand, after <|startofprev|> and the first's tokens.
  TorchDevice device(TestDevice(), "by-hand");
  ASSERT_OK(device.Open(0));
  auto encoder = device.Load(std::string(BOTMODELS_STANDIN_MODELS) + "/whisper-standin/encoder.pt");
  auto decoder =
      device.Load(std::string(BOTMODELS_STANDIN_MODELS) + "/whisper-standin/decoder.pt", {"cross"});
  ASSERT_OK(encoder);
  ASSERT_OK(decoder);
  std::vector<float> samples(16000 * 15);
  for (size_t i = 0; i < samples.size(); ++i) {
    const double t = static_cast<double>(i + 30 * 16000) / kRate;
    samples[i] = static_cast<float>(
        static_cast<int16_t>(0.3 * 32767 * std::sin(2 * M_PI * 440 * t)) / 32768.0);
  }
  c10::InferenceMode guard;
  const torch::Tensor mel = LogMel(80).Compute(LogMel::PadOrTrim(samples, LogMel::kWindowSamples));
  const torch::Tensor states = encoder->forward({mel.unsqueeze(0).to(device.device())}).toTensor();
  GenerationOptions options;
  options.max_new_tokens = 8;
  options.stop_tokens = {50256};
  for (int64_t t = 50257; t < 51767; ++t) options.suppress_tokens.push_back(t);
  options.begin_suppress_tokens = {220, 50256};
  const auto decode = [&](Tokens prompt) {
    ScriptDecoder script(*decoder, states, device);
    prompt.insert(prompt.end(), {50257, 50258, 50262, 50264});  // sot, en, transcribe, notimestamps
    auto g = TokenGenerator(options).Generate(script, prompt);
    EXPECT_OK(g);
    return g.ok() ? json(g->tokens) : json();
  };
  Tokens previous{50265};  // <|startofprev|>
  for (const json& t : with[0]["tokens"]) previous.push_back(t.get<int64_t>());
  EXPECT_EQ(with[1]["tokens"], decode(previous));
  EXPECT_EQ(without[1]["tokens"], decode({}));
}

}  // namespace
}  // namespace botmodels
