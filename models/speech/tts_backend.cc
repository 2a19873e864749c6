#include "models/speech/tts_backend.h"

#include <cmath>
#include <memory>

#include "common/value.h"
#include "models/codecs/wav.h"

namespace botmodels {
namespace {

// The bytes of `count` samples, little-endian (the host's order on every
// platform we build for).
std::string_view Bytes(const int16_t* samples, size_t count) {
  return {reinterpret_cast<const char*>(samples), count * sizeof(int16_t)};
}

// What a reply views, kept alive by ModelOutputs::owner.
struct TtsResult {
  std::string audio, sample_rate, voice;
};

}  // namespace

TtsBackend::TtsBackend(ModelConfig config)
    : config_(std::move(config)), espeak_(config_.options.Get<TtsOptions>().espeak_data) {}

Status TtsBackend::Load() {
  if (load_status_) return *load_status_;
  Status s = flite_.Load();
  if (s.ok()) s = espeak_.Load();
  if (s.ok() && !flite_.HasVoice(config_.options.Get<TtsOptions>().voice) &&
      !espeak_.HasVoice(config_.options.Get<TtsOptions>().voice)) {
    s = Status(ErrorCode::kModelLoadFailed, "tts: options.voice '" +
                                                config_.options.Get<TtsOptions>().voice +
                                                "' is no Flite or eSpeak NG voice");
  }
  load_status_ = s;
  return s;
}

Result<TtsBackend::Plan> TtsBackend::Prepare(const protocol::TensorViews& inputs) {
  const TtsOptions& o = config_.options.Get<TtsOptions>();
  Plan plan;
  plan.text = std::string(inputs.at(tts_io::kText).data);
  if (plan.text.find_first_not_of(" \t\r\n") == std::string::npos) {
    return InvalidRequest("input 'text': nothing to say");
  }
  if (plan.text.size() > o.max_text_bytes) {
    return InvalidRequest(
        "input 'text': " + std::to_string(plan.text.size()) +
        " bytes is over the model's max_text_bytes = " + std::to_string(o.max_text_bytes));
  }
  if (plan.text.find('\0') != std::string::npos) return InvalidRequest("input 'text': holds a NUL");
  plan.voice = o.voice;
  if (auto it = inputs.find(tts_io::kVoice); it != inputs.end()) {
    plan.voice = it->second.data;
  } else if (auto lang = inputs.find(tts_io::kLanguage); lang != inputs.end()) {
    plan.voice = lang->second.data;
  }
  plan.rate = o.rate;
  if (auto it = inputs.find(tts_io::kRate); it != inputs.end()) {
    const auto rate = ReadNumber(it->second.data);
    if (!rate || !(*rate >= 0.25 && *rate <= 4)) {
      return InvalidRequest("input 'rate': a number 0.25-4 (1 = normal speed)");
    }
    plan.rate = *rate;
  }
  if (flite_.HasVoice(plan.voice)) {
    plan.engine = &flite_;
  } else if (espeak_.HasVoice(plan.voice)) {
    plan.engine = &espeak_;
  } else {
    return InvalidRequest("voice '" + plan.voice.substr(0, 64) +
                          "' is not installed: Flite has slt, awb, rms and kal16; eSpeak NG "
                          "lists its own with `espeak-ng --voices`");
  }
  return plan;
}

ModelOutputs TtsBackend::Final(const Plan& plan, std::string wav) const {
  auto result = std::make_shared<TtsResult>();
  result->audio = std::move(wav);
  result->sample_rate = ValueWriter().Int(plan.engine->sample_rate()).Take();
  result->voice = plan.voice;
  ModelOutputs out;
  if (!result->audio.empty())
    out.views[tts_io::kAudio] = {protocol::DType::kBytes, {}, result->audio};
  out.views[tts_io::kSampleRate] = {protocol::DType::kValue, {}, result->sample_rate};
  out.views[tts_io::kVoice] = {protocol::DType::kString, {}, result->voice};
  out.owner = std::move(result);
  return out;
}

Result<ModelOutputs> TtsBackend::Infer(const protocol::TensorViews& inputs) {
  auto plan = Prepare(inputs);
  if (!plan.ok()) return plan.status();
  std::string pcm;
  const auto append = [&pcm](const int16_t* samples, size_t count) {
    pcm.append(Bytes(samples, count));
  };
  BOTMODELS_RETURN_IF_ERROR(plan->engine->Speak(plan->text, plan->voice, plan->rate, append));
  if (pcm.empty()) return InvalidRequest("input 'text': nothing to say");
  std::string wav = WavHeader(plan->engine->sample_rate(), static_cast<uint32_t>(pcm.size()));
  wav += pcm;
  return Final(*plan, std::move(wav));
}

Result<ModelOutputs> TtsBackend::InferRequest(const protocol::TensorViews& inputs,
                                              const RequestContext& request) {
  if (!request.partial) return Infer(inputs);
  const PartialSink& partial = request.partial;
  auto plan = Prepare(inputs);
  if (!plan.ok()) return plan.status();
  const int rate = plan->engine->sample_rate();
  const std::string rate_value = ValueWriter().Int(rate).Take();
  const size_t chunk_bytes = static_cast<size_t>(kChunkSeconds * rate) * sizeof(int16_t);
  std::string pending;
  bool first = true;
  const auto flush = [&] {
    partial({{tts_io::kPcm, {protocol::DType::kBytes, {}, pending}},
             {tts_io::kSampleRate, {protocol::DType::kValue, {}, rate_value}}});
    pending.clear();
    first = false;
  };
  const auto on_samples = [&](const int16_t* samples, size_t count) {
    pending.append(Bytes(samples, count));
    if (first || pending.size() >= chunk_bytes) flush();  // the first at once: time to first sound
  };
  BOTMODELS_RETURN_IF_ERROR(plan->engine->Speak(plan->text, plan->voice, plan->rate, on_samples));
  if (!pending.empty()) flush();
  return Final(*plan, {});
}

}  // namespace botmodels
