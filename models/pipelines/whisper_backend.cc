#include "models/pipelines/whisper_backend.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "common/value.h"
#include "models/pipelines/generation_inputs.h"
#include "models/pipelines/text_stream.h"

namespace botmodels {
namespace {

struct Segment {
  double start_s = 0, end_s = 0;
  std::string text;
  double avg_log_prob = 0;
  Tokens tokens;
};

// What a reply views, kept alive by ModelOutputs::owner.
struct WhisperResult {
  std::string text, language, language_probability, confidence, segments, duration;
};

std::string SegmentsValue(const std::vector<Segment>& segments) {
  ValueWriter v;
  v.Array(segments.size());
  for (const Segment& s : segments) {
    v.Map(5).Str("start_s").Double(s.start_s).Str("end_s").Double(s.end_s);
    v.Str("text").Str(s.text).Str("avg_log_prob").Double(s.avg_log_prob);
    v.Str("tokens").Array(s.tokens.size());
    for (int64_t t : s.tokens) v.Int(t);
  }
  return v.Take();
}

}  // namespace

WhisperBackend::WhisperBackend(ModelConfig config, const std::string& device)
    : PipelineBackend(std::move(config), device),
      options_(config_.options.Get<WhisperOptions>()),
      audio_(LogMel::kSampleRate, options_.max_seconds),
      mel_(options_.n_mels) {}

Status WhisperBackend::LoadParts() {
  auto tokenizer = BpeTokenizer::Load(PathOf(options_.vocab), PathOf(options_.merges));
  if (!tokenizer.ok()) return tokenizer.status();
  tokenizer_.emplace(std::move(*tokenizer));
  std::vector<int64_t> specials;
  BOTMODELS_RETURN_IF_ERROR(
      AddSpecialTokens(PathOf(options_.added_tokens), &*tokenizer_, &specials));
  auto tokens =
      WhisperTokens::Find(*tokenizer_, options_.multilingual, PathOf(options_.added_tokens));
  if (!tokens.ok()) return tokens.status();
  tokens_ = std::move(*tokens);
  for (int64_t id : specials) {
    if (id != tokens_.end) suppressed_.push_back(id);
  }
  suppressed_.insert(suppressed_.end(), options_.suppress_tokens.begin(),
                     options_.suppress_tokens.end());
  auto encoder = device_.Load(PathOf(options_.encoder));
  if (!encoder.ok()) return encoder.status();
  encoder_ = std::move(*encoder);
  auto decoder = device_.Load(PathOf(options_.decoder), {"cross"});
  if (!decoder.ok()) return decoder.status();
  decoder_ = std::move(*decoder);
  // Warm-up, which also checks that the parts keep their contract.
  const std::vector<float> silence(LogMel::kWindowSamples, 0.0f);
  for (int i = 0; i < kWarmupRuns; ++i) {
    auto states = Encode(silence, 0);
    if (!states.ok()) {
      return Status(ErrorCode::kModelLoadFailed,
                    PathOf(options_.encoder) + ": " + states.status().message());
    }
    ScriptDecoder decoder(decoder_, *states, device_);
    auto logits = decoder.Logits({tokens_.start});
    if (!logits.ok()) {
      return Status(ErrorCode::kModelLoadFailed,
                    PathOf(options_.decoder) + ": " + logits.status().message());
    }
    if (logits->size(0) < static_cast<int64_t>(tokenizer_->vocabulary_size())) {
      return Status(ErrorCode::kModelLoadFailed,
                    PathOf(options_.decoder) + ": " + std::to_string(logits->size(0)) +
                        " logits, fewer than the tokenizer's " +
                        std::to_string(tokenizer_->vocabulary_size()) + " tokens");
    }
  }
  return {};
}

Result<torch::Tensor> WhisperBackend::Encode(const std::vector<float>& samples, size_t begin) {
  const size_t end = std::min(samples.size(), begin + LogMel::kWindowSamples);
  std::vector<float> window(samples.begin() + static_cast<std::ptrdiff_t>(begin),
                            samples.begin() + static_cast<std::ptrdiff_t>(end));
  return device_.Run([&]() -> Result<torch::Tensor> {
    const torch::Tensor mel =
        mel_.Compute(LogMel::PadOrTrim(std::move(window), LogMel::kWindowSamples));
    const c10::IValue states =
        encoder_.forward({mel.unsqueeze(0).to(device_.device(), device_.FloatType())});
    if (!states.isTensor() || states.toTensor().dim() != 3 || states.toTensor().size(0) != 1) {
      return Status(ErrorCode::kInternal, "the encoder part must return states [1, frames, width]");
    }
    return states.toTensor();
  });
}

Result<WhisperBackend::Task> WhisperBackend::ReadTask(const protocol::TensorViews& inputs) const {
  Task t;
  auto generation = RequestedGeneration(options_.generate, inputs);
  if (!generation.ok()) return generation.status();
  t.generation = std::move(*generation);
  t.generation.stop_tokens = {tokens_.end};
  t.generation.suppress_tokens = suppressed_;
  t.generation.begin_suppress_tokens = options_.begin_suppress_tokens;
  const std::string_view task = OptionalString(inputs, "task").value_or("transcribe");
  if (task != "transcribe" && task != "translate") {
    return InvalidRequest("input 'task': \"transcribe\" or \"translate\" (into English)");
  }
  const std::string_view language = Trimmed(OptionalString(inputs, "language").value_or(""));
  if (!options_.multilingual) {
    if (task == "translate")
      return InvalidRequest("model '" + config_.name + "' is English-only: it does not translate");
    if (!language.empty() && language.substr(0, 2) != "en") {
      return InvalidRequest("model '" + config_.name +
                            "' is English-only: language must be \"en\"");
    }
    return t;
  }
  t.task = task == "translate" ? tokens_.translate : tokens_.transcribe;
  if (!language.empty()) {
    t.language = tokens_.Language(language);
    if (!t.language) {
      return InvalidRequest("input 'language': model '" + config_.name + "' does not know '" +
                            std::string(language) + "' (Whisper's codes: en, pt, es...)");
    }
  }
  return t;
}

Result<WhisperBackend::First> WhisperBackend::FirstStep(ScriptDecoder& decoder, bool detect) {
  First first;
  if (tokens_.no_speech < 0 && !detect) return first;
  auto logits = decoder.Logits({tokens_.start});
  if (!logits.ok()) return logits.status();
  if (tokens_.no_speech >= 0 && tokens_.no_speech < logits->size(0)) {
    first.no_speech = torch::softmax(*logits, 0)[tokens_.no_speech].item<double>();
  }
  if (detect) {
    // Whisper's detect_language: the likeliest language token, its
    // probability among the language tokens only.
    std::vector<int64_t> ids;
    for (const auto& [code, id] : tokens_.languages) {
      if (id < logits->size(0)) ids.push_back(id);
    }
    const torch::Tensor scores =
        torch::softmax(logits->index_select(0, torch::tensor(ids, torch::kInt64)), 0);
    const int64_t best = scores.argmax().item<int64_t>();
    first.language = ids[static_cast<size_t>(best)];
    first.language_probability = scores[best].item<double>();
  }
  return first;
}

Result<ModelOutputs> WhisperBackend::InferRequest(const protocol::TensorViews& inputs,
                                                  const RequestContext& request) {
  const PartialSink& partial = request.partial;
  BOTMODELS_RETURN_IF_ERROR(Load());
  auto task = ReadTask(inputs);
  if (!task.ok()) return task.status();
  auto audio = audio_.Decode(inputs.at(whisper_io::kAudio).data);
  if (!audio.ok()) return audio.status();
  std::vector<float> samples(audio->samples.size());
  std::transform(audio->samples.begin(), audio->samples.end(), samples.begin(),
                 [](int16_t s) { return static_cast<float>(s) / 32768.0f; });
  const TokenGenerator generator(task->generation);
  std::optional<int64_t> language = task->language;
  std::optional<double> language_probability;  // when detected
  std::vector<Segment> segments;
  std::string text;  // the windows' text so far, joined by spaces
  TextStream stream;
  double sum_log_prob = 0;
  size_t scored = 0;
  for (size_t begin = 0; begin < samples.size(); begin += LogMel::kWindowSamples) {
    const size_t end = std::min(samples.size(), begin + LogMel::kWindowSamples);
    float peak = 0;
    for (size_t i = begin; i < end; ++i) peak = std::max(peak, std::abs(samples[i]));
    if (peak < kSilencePeak) continue;
    auto states = Encode(samples, begin);
    if (!states.ok()) return states.status();
    ScriptDecoder decoder(decoder_, *states, device_);
    auto first = FirstStep(decoder, /*detect=*/options_.multilingual && !language);
    if (!first.ok()) return first.status();
    if (first->language) {
      language = first->language;
      language_probability = first->language_probability;
    }
    Tokens prompt{tokens_.start};
    if (options_.multilingual) prompt.insert(prompt.end(), {*language, task->task});
    prompt.push_back(tokens_.no_timestamps);
    Tokens window_tokens;
    const std::string before = text.empty() ? "" : text + " ";
    const auto on_token = [&](int64_t token) {
      window_tokens.push_back(token);
      const std::string decoded = tokenizer_->Decode(window_tokens, /*skip_special=*/true);
      const std::string piece = stream.Next(before + std::string(Trimmed(decoded)));
      if (!piece.empty()) partial({{whisper_io::kText, {protocol::DType::kString, {}, piece}}});
    };
    auto generated =
        generator.Generate(decoder, prompt, partial ? TokenGenerator::OnToken(on_token) : nullptr);
    if (!generated.ok()) return generated.status();
    if (first->no_speech > kNoSpeechThreshold && generated->mean_log_prob < kLogProbThreshold) {
      continue;
    }
    Segment s;
    s.start_s = static_cast<double>(begin) / LogMel::kSampleRate;
    s.end_s = static_cast<double>(end) / LogMel::kSampleRate;
    s.text = Trimmed(ValidUtf8(tokenizer_->Decode(generated->tokens, /*skip_special=*/true)));
    s.avg_log_prob = generated->mean_log_prob;
    s.tokens = generated->tokens;
    sum_log_prob += generated->sum_log_prob;
    scored += generated->tokens.size() + (generated->stopped ? 1 : 0);
    if (!s.text.empty()) text += (text.empty() ? "" : " ") + s.text;
    segments.push_back(std::move(s));
  }
  auto result = std::make_shared<WhisperResult>();
  result->text = std::move(text);
  result->language = options_.multilingual ? (language ? tokens_.Code(*language) : "") : "en";
  result->language_probability = language_probability
                                     ? ValueWriter().Double(*language_probability).Take()
                                     : ValueWriter().Nil().Take();
  result->confidence =
      ValueWriter()
          .Double(scored > 0 ? std::exp(sum_log_prob / static_cast<double>(scored)) : 0)
          .Take();
  result->segments = SegmentsValue(segments);
  result->duration = ValueWriter().Double(audio->seconds).Take();
  ModelOutputs out;
  out.views[whisper_io::kText] = {protocol::DType::kString, {}, result->text};
  out.views[whisper_io::kLanguage] = {protocol::DType::kString, {}, result->language};
  out.views[whisper_io::kLanguageProbability] = {
      protocol::DType::kValue, {}, result->language_probability};
  out.views[whisper_io::kConfidence] = {protocol::DType::kValue, {}, result->confidence};
  out.views[whisper_io::kSegments] = {protocol::DType::kValue, {}, result->segments};
  out.views[whisper_io::kDuration] = {protocol::DType::kValue, {}, result->duration};
  out.owner = std::move(result);
  return out;
}

std::string WhisperBackend::Describe() const {
  return "whisper, " + std::to_string(options_.n_mels) + " mel bins, " +
         (options_.multilingual ? "multilingual" : "English-only") + ", " +
         std::to_string(at::get_num_threads()) + " intra-op threads";
}

}  // namespace botmodels
