#include "models/pipelines/whisper_backend.h"

#include <ATen/Parallel.h>
#include <zlib.h>

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
  double temperature = 0, compression_ratio = 0, no_speech_prob = 0;
};

// transcribe()'s compression ratio: the text's UTF-8 bytes over their zlib
// compression (repeated text compresses well).
double CompressionRatio(const std::string& text) {
  if (text.empty()) return 0;
  uLongf size = compressBound(static_cast<uLong>(text.size()));
  std::vector<Bytef> out(size);
  if (compress(out.data(), &size, reinterpret_cast<const Bytef*>(text.data()),
               static_cast<uLong>(text.size())) != Z_OK) {
    return 0;
  }
  return static_cast<double>(text.size()) / static_cast<double>(size);
}

// What a reply views, kept alive by ModelOutputs::owner.
struct WhisperResult {
  std::string text, language, language_probability, confidence, segments, duration;
};

std::string SegmentsValue(const std::vector<Segment>& segments) {
  ValueWriter v;
  v.Array(segments.size());
  for (const Segment& s : segments) {
    v.Map(8).Str("start_s").Double(s.start_s).Str("end_s").Double(s.end_s);
    v.Str("text").Str(s.text).Str("avg_log_prob").Double(s.avg_log_prob);
    v.Str("temperature").Double(s.temperature).Str("compression_ratio").Double(s.compression_ratio);
    v.Str("no_speech_prob").Double(s.no_speech_prob);
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
    if (id != tokens_.end && !tokens_.IsTimestamp(id)) suppressed_.push_back(id);
  }
  suppressed_.insert(suppressed_.end(), options_.suppress_tokens.begin(),
                     options_.suppress_tokens.end());
  suppressed_untimed_ = suppressed_;
  if (tokens_.timestamp_begin >= 0) {
    for (int64_t i = 0; i < WhisperTokens::kTimestamps; ++i) {
      suppressed_untimed_.push_back(tokens_.timestamp_begin + i);
    }
    timestamp_rules_.emplace(tokens_);
  }
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
  t.generation.begin_suppress_tokens = options_.begin_suppress_tokens;
  const auto flag = [&](const char* name, bool fallback) -> Result<bool> {
    const auto it = inputs.find(name);
    if (it == inputs.end()) return fallback;
    const auto value = ReadBool(it->second.data);
    if (!value) return InvalidRequest("input '" + std::string(name) + "': true or false");
    return *value;
  };
  auto timestamps = flag(whisper_io::kTimestamps, false);
  if (!timestamps.ok()) return timestamps.status();
  t.timestamps = *timestamps;
  if (t.timestamps && !timestamp_rules_) {
    return InvalidRequest("model '" + config_.name + "' has no timestamp tokens (<|0.00|>...)");
  }
  t.generation.suppress_tokens = t.timestamps ? suppressed_ : suppressed_untimed_;
  if (t.timestamps) t.generation.rule = &*timestamp_rules_;
  auto condition = flag(whisper_io::kConditionOnPreviousText, options_.condition_on_previous_text);
  if (!condition.ok()) return condition.status();
  t.condition_on_previous_text = *condition && tokens_.start_of_prev >= 0;
  t.temperatures = options_.temperatures;
  if (const auto it = inputs.find(whisper_io::kTemperature); it != inputs.end()) {
    const auto temperature = ReadNumber(it->second.data);
    if (!temperature || !(*temperature >= 0 && *temperature <= 2)) {
      return InvalidRequest("input 'temperature': a number from 0 to 2 (0: greedy, with fallback)");
    }
    if (*temperature > 0) t.temperatures = {*temperature};
  }
  auto seed = WholeInput(inputs, whisper_io::kSeed, 0, 0, INT64_MAX);
  if (!seed.ok()) return seed.status();
  t.generation.seed = static_cast<uint64_t>(*seed);
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

Result<WhisperBackend::First> WhisperBackend::FirstStep(ScriptDecoder& decoder,
                                                        const Tokens& prefix, bool detect) {
  First first;
  torch::Tensor at_start;  // the logits at <|startoftranscript|> after `prefix`
  if (tokens_.no_speech >= 0 || (detect && prefix.empty())) {
    Tokens sequence = prefix;
    sequence.push_back(tokens_.start);
    auto logits = decoder.Logits(sequence);
    if (!logits.ok()) return logits.status();
    at_start = std::move(*logits);
    if (tokens_.no_speech >= 0 && tokens_.no_speech < at_start.size(0)) {
      first.no_speech = torch::softmax(at_start, 0)[tokens_.no_speech].item<double>();
    }
  }
  if (!detect) return first;
  // Whisper's detect_language: at <|startoftranscript|> alone, the likeliest
  // language token, its probability among the language tokens only.
  if (!prefix.empty()) {
    auto logits = decoder.Logits({tokens_.start});
    if (!logits.ok()) return logits.status();
    at_start = std::move(*logits);
  }
  std::vector<int64_t> ids;
  for (const auto& [code, id] : tokens_.languages) {
    if (id < at_start.size(0)) ids.push_back(id);
  }
  const torch::Tensor scores =
      torch::softmax(at_start.index_select(0, torch::tensor(ids, torch::kInt64)), 0);
  const int64_t best = scores.argmax().item<int64_t>();
  first.language = ids[static_cast<size_t>(best)];
  first.language_probability = scores[best].item<double>();
  return first;
}

Result<WhisperBackend::Attempt> WhisperBackend::DecodeWindow(
    ScriptDecoder& decoder, const Tokens& prompt, const Task& task, double no_speech,
    const TokenGenerator::OnToken& on_token) const {
  Attempt attempt;
  for (size_t i = 0; i < task.temperatures.size(); ++i) {
    GenerationOptions options = task.generation;
    options.temperature = task.temperatures[i];
    const bool last = i + 1 == task.temperatures.size();
    // Sampling draws best_of samples, the request's seed counting up, and
    // keeps the likeliest; only a lone sample can be streamed as it comes.
    const int samples = options.temperature > 0 && options.beams == 1 ? options_.best_of : 1;
    for (int s = 0; s < samples; ++s) {
      options.seed = task.generation.seed + static_cast<uint64_t>(s);
      auto generated = TokenGenerator(options).Generate(decoder, prompt,
                                                        last && samples == 1 ? on_token : nullptr);
      if (!generated.ok()) return generated.status();
      if (s == 0 || generated->mean_log_prob > attempt.generated.mean_log_prob) {
        attempt.generated = std::move(*generated);
      }
    }
    attempt.temperature = options.temperature;
    attempt.compression_ratio =
        CompressionRatio(tokenizer_->Decode(attempt.generated.tokens, /*skip_special=*/true));
    const bool low = attempt.generated.mean_log_prob < options_.logprob_threshold;
    attempt.silent = no_speech > options_.no_speech_threshold && low;
    if (attempt.silent) break;  // no fallback for silence
    if (attempt.compression_ratio <= options_.compression_ratio_threshold && !low) break;
  }
  return attempt;
}

size_t WhisperBackend::PreviousRoom(const Task& task) const {
  // <|startofprev|>, then <|startoftranscript|> <|lang|> <|task|> <|notimestamps|> at most.
  const int room = options_.max_target_positions - task.generation.max_new_tokens - 5;
  return std::min(kMaxPreviousTokens, static_cast<size_t>(std::max(room, 0)));
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
  std::optional<int64_t> language = task->language;
  std::optional<double> language_probability;  // when detected
  std::vector<Segment> segments;
  std::string text;  // the segments' text so far, joined by spaces
  TextStream stream;
  const auto emit = [&](const std::string& so_far) {
    const std::string piece = stream.Next(so_far);
    if (!piece.empty()) partial({{whisper_io::kText, {protocol::DType::kString, {}, piece}}});
  };
  Tokens previous;  // the accepted windows' tokens since the last reset: the next prompt
  double sum_log_prob = 0;
  size_t scored = 0;
  size_t seek = 0;
  while (seek < samples.size()) {
    const size_t end = std::min(samples.size(), seek + LogMel::kWindowSamples);
    const double window_s = static_cast<double>(end - seek) / LogMel::kSampleRate;
    const double seek_s = static_cast<double>(seek) / LogMel::kSampleRate;
    float peak = 0;
    for (size_t i = seek; i < end; ++i) peak = std::max(peak, std::abs(samples[i]));
    if (peak < kSilencePeak) {
      seek = end;
      continue;
    }
    auto states = Encode(samples, seek);
    if (!states.ok()) return states.status();
    ScriptDecoder decoder(decoder_, *states, device_);
    Tokens prompt;
    if (task->condition_on_previous_text && !previous.empty()) {
      const size_t keep = std::min(previous.size(), PreviousRoom(*task));
      prompt.push_back(tokens_.start_of_prev);
      prompt.insert(prompt.end(), previous.end() - static_cast<ptrdiff_t>(keep), previous.end());
    }
    auto first = FirstStep(decoder, prompt, /*detect=*/options_.multilingual && !language);
    if (!first.ok()) return first.status();
    if (first->language) {
      language = first->language;
      language_probability = first->language_probability;
    }
    prompt.push_back(tokens_.start);
    if (options_.multilingual) prompt.insert(prompt.end(), {*language, task->task});
    if (!task->timestamps) prompt.push_back(tokens_.no_timestamps);
    Tokens window_tokens;
    const std::string before = text.empty() ? "" : text + " ";
    const auto on_token = [&](int64_t token) {
      window_tokens.push_back(token);
      emit(before + std::string(Trimmed(tokenizer_->Decode(window_tokens, /*skip_special=*/true))));
    };
    // Token by token only when no fallback can discard what was streamed.
    const bool live = partial && task->temperatures.size() == 1;
    auto attempt =
        DecodeWindow(decoder, prompt, *task, first->no_speech,
                     live ? TokenGenerator::OnToken(on_token) : TokenGenerator::OnToken());
    if (!attempt.ok()) return attempt.status();
    const Generated& generated = attempt->generated;
    if (attempt->silent) {
      seek = end;
      continue;
    }
    WhisperTimestamps::Cut cut;
    if (task->timestamps) {
      cut = timestamp_rules_->Segments(generated.tokens, window_s);
    } else {
      cut.segments.push_back({0, window_s, generated.tokens});
      cut.advance_s = window_s;
    }
    for (WhisperTimestamps::Segment& piece : cut.segments) {
      Segment s;
      s.start_s = seek_s + piece.start_s;
      s.end_s = seek_s + piece.end_s;
      s.text = Trimmed(ValidUtf8(tokenizer_->Decode(piece.tokens, /*skip_special=*/true)));
      if (task->timestamps && s.text.empty()) continue;
      s.avg_log_prob = generated.mean_log_prob;
      s.tokens = std::move(piece.tokens);
      s.temperature = attempt->temperature;
      s.compression_ratio = attempt->compression_ratio;
      s.no_speech_prob = first->no_speech;
      if (!s.text.empty()) text += (text.empty() ? "" : " ") + s.text;
      segments.push_back(std::move(s));
    }
    if (partial) emit(text);
    sum_log_prob += generated.sum_log_prob;
    scored += generated.tokens.size() + (generated.stopped ? 1 : 0);
    if (attempt->temperature > kResetPromptAbove) {
      previous.clear();
    } else {
      previous.insert(previous.end(), generated.tokens.begin(), generated.tokens.end());
    }
    // At least one timestamp step (20 ms) on: a window never repeats itself.
    const auto advance = static_cast<size_t>(std::lround(cut.advance_s * LogMel::kSampleRate));
    seek = std::min(end, seek + std::max<size_t>(advance, LogMel::kSampleRate / 50));
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
