#include "gateway/routes/route_replies.h"
#include "gateway/routes/route_table.h"
#include "models/pipelines/whisper_spec.h"
#include "models/speech/stt_spec.h"
#include "models/speech/tts_spec.h"

namespace botmodels {
namespace {

using K = FieldKind;

constexpr FieldSpec kSpeakFields[] = {
    {"prompt", K::kPrompt, 0, 0, 0, "", tts_io::kText},
    {"voice", K::kText, 0, 0, 0, "default", tts_io::kVoice},
    {"language", K::kText, 0, 0, 0, "en", tts_io::kLanguage},
    {"stream", K::kFlag, 0, 0, 0, "", ""},
};

// "default" and English keep the model's own voice; a voice named wins over
// a language.
void ChooseVoice(protocol::NamedTensors& inputs) {
  const auto voice = inputs.find(tts_io::kVoice);
  const bool named = voice != inputs.end() && voice->second.data != "default";
  if (voice != inputs.end() && !named) inputs.erase(voice);
  const auto language = inputs.find(tts_io::kLanguage);
  if (language == inputs.end()) return;
  if (named || language->second.data == "en" || language->second.data == "en-us") {
    inputs.erase(language);
  }
}

constexpr PostRoute kRoutes[] = {
    {.path = "/api/speech/generate",
     .summary = "Speak a text (WAV)",
     .handler = RouteHandler::kSpeak,
     .model = ModelRoute::kSpeechGenerate,
     .fields = kSpeakFields,
     .product = tts_io::kAudio,
     .product_kind = OutputKind::kAudio,
     .failure = route_replies::GenerationFailure,
     .adjust = ChooseVoice},
    {.path = "/api/speech/totext",
     .alias = "/api/speech/to-text",
     .summary = "Transcribe speech",
     .handler = RouteHandler::kRecognize,
     .model = ModelRoute::kSpeechToText,
     .upload = stt_io::kAudio,
     .reply = [](const ModelCall& call) { return route_replies::SpeechToText(call.outputs); }},
    {.path = "/api/speech/detect_language",
     .summary = "Detect the language of speech",
     .handler = RouteHandler::kRecognize,
     .model = ModelRoute::kSpeechLanguage,
     .upload = whisper_io::kAudio,
     .reply = [](const ModelCall& call) { return route_replies::Language(call.outputs); }},
};

}  // namespace

std::span<const PostRoute> SpeechRoutes() { return kRoutes; }

}  // namespace botmodels
