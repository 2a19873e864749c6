#include "models/speech/espeak_engine.h"

#include <espeak-ng/espeak_ng.h>
#include <espeak-ng/speak_lib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>

namespace botmodels {
namespace {

constexpr int kBufferMs = 100;   // audio per callback: the streaming granularity
constexpr int kNormalWpm = 175;  // eSpeak NG's default speed, words per minute
constexpr int kMinWpm = 80;      // eSpeak NG's own bounds
constexpr int kMaxWpm = 450;
constexpr size_t kMaxVoiceBytes = 64;  // "pt-br+f3" and the like

// eSpeak NG calls back with samples and the user data of the Synthesize
// call: the sink of the text being spoken. Returns 0 to go on.
int OnSamples(short* samples, int count, espeak_EVENT* events) {
  if (samples && count > 0 && events) {
    const auto* sink = static_cast<const SamplesSink*>(events->user_data);
    if (sink) (*sink)(samples, static_cast<size_t>(count));
  }
  return 0;
}

// The file name in an identifier: "gmw/de" is "de", "!v/f3" is "f3".
std::string Basename(const char* identifier) {
  const std::string id = identifier ? identifier : "";
  return id.substr(id.rfind('/') + 1);
}

bool PlainName(const std::string& voice) {
  return !voice.empty() && voice.size() <= kMaxVoiceBytes &&
         std::all_of(voice.begin(), voice.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '+';
         });
}

}  // namespace

Status EspeakEngine::Load() {
  if (loaded_) return {};
  std::error_code ec;
  if (!std::filesystem::is_directory(data_dir_, ec)) {
    return {ErrorCode::kModelLoadFailed,
            "espeak-ng: no data at " + data_dir_ + " (apt install espeak-ng-data)"};
  }
  // eSpeak NG looks for espeak-ng-data inside the folder it is given.
  espeak_ng_InitializePath(std::filesystem::path(data_dir_).parent_path().c_str());
  if (espeak_ng_Initialize(nullptr) != ENS_OK ||
      espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, kBufferMs, nullptr) != ENS_OK) {
    return {ErrorCode::kModelLoadFailed, "espeak-ng: could not initialise from " + data_dir_};
  }
  espeak_SetSynthCallback(OnSamples);
  sample_rate_ = espeak_ng_GetSampleRate();
  for (const espeak_VOICE** v = espeak_ListVoices(nullptr); v && *v; ++v) {
    voices_.insert(Basename((*v)->identifier));
    if ((*v)->name) voices_.insert((*v)->name);
    // languages: a priority byte, then a NUL-terminated name, repeated; an empty name ends it.
    for (const char* l = (*v)->languages; l && *l; l += std::strlen(l + 1) + 2)
      voices_.insert(l + 1);
  }
  espeak_VOICE variant_spec{};
  variant_spec.languages = "variant";
  for (const espeak_VOICE** v = espeak_ListVoices(&variant_spec); v && *v; ++v) {
    variants_.insert(Basename((*v)->identifier));
  }
  loaded_ = true;
  return {};
}

bool EspeakEngine::HasVoice(const std::string& voice) {
  if (!loaded_ || !PlainName(voice)) return false;
  const auto plus = voice.find('+');
  if (!voices_.count(voice.substr(0, plus))) return false;
  if (plus != std::string::npos && !variants_.count(voice.substr(plus + 1))) return false;
  return espeak_ng_SetVoiceByName(voice.c_str()) == ENS_OK;
}

Status EspeakEngine::Speak(const std::string& text, const std::string& voice, double rate,
                           const SamplesSink& sink) {
  if (!HasVoice(voice)) return InvalidRequest("espeak-ng has no voice '" + voice + "'");
  const int wpm = std::clamp(static_cast<int>(std::lround(kNormalWpm * rate)), kMinWpm, kMaxWpm);
  espeak_ng_SetParameter(espeakRATE, wpm, 0);
  const espeak_ng_STATUS s =
      espeak_ng_Synthesize(text.c_str(), text.size() + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8,
                           nullptr, const_cast<SamplesSink*>(&sink));
  if (s != ENS_OK) {
    char message[256];
    espeak_ng_GetStatusCodeMessage(s, message, sizeof message);
    return InvalidRequest(std::string("espeak-ng could not speak the text: ") + message);
  }
  return {};
}

}  // namespace botmodels
