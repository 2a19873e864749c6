#include "common/backend_options.h"

#include <array>
#include <utility>

namespace botmodels {
namespace {

using protocol::DType;
using protocol::TensorSpec;

constexpr std::array<std::pair<BackendKind, std::string_view>, 9> kBackendNames{{
    {BackendKind::kTorchScript, "torchscript"},
    {BackendKind::kIdentity, "identity"},
    {BackendKind::kOcr, "ocr"},
    {BackendKind::kBarcode, "barcode"},
    {BackendKind::kQrCode, "qrcode"},
    {BackendKind::kTts, "tts"},
    {BackendKind::kStt, "stt"},
    {BackendKind::kWhisper, "whisper"},
    {BackendKind::kCaption, "caption"},
}};

constexpr int64_t kMaxPixelsCap = int64_t{1} << 31;  // 2 GP: 8 GiB of RGBA, past any real image
constexpr int kMaxPsm = 13;                          // tesseract::PSM_RAW_LINE
constexpr int64_t kMaxQrSide = 16384;                // px: 256 MP, far past any screen or print
constexpr int kMaxQrBytes = 2953;                    // version 40, level L, byte mode
constexpr int64_t kMaxTtsText = 10'000'000;          // 10 MB: a whole book
constexpr double kMaxRate = 4;                       // faster is not speech any more
constexpr double kMaxSttSeconds = 4 * 3600;          // a long meeting
constexpr int64_t kMaxBeams = 64;                    // past this a beam search only costs
constexpr int64_t kMaxNewTokens = 4096;              // past any caption or 30 s of speech
constexpr double kMaxPenalty = 10;                   // penalties are near 1 in practice
constexpr int64_t kMaxContext = 1 << 16;             // tokens: past any decoder we export
constexpr int64_t kMaxMels = 256;                    // Whisper uses 80 or 128

TensorSpec Spec(std::string name, DType dtype, bool optional = false) {
  TensorSpec spec{std::move(name), dtype, std::nullopt};
  spec.optional = optional;
  return spec;
}

Status ReadImage(const TomlReader& r, ImageOptions* o) {
  int64_t pixels = static_cast<int64_t>(o->max_pixels);
  BOTMODELS_RETURN_IF_ERROR(r.Int("max_pixels", &pixels, 1, kMaxPixelsCap));
  o->max_pixels = static_cast<uint64_t>(pixels);
  return {};
}

Status ReadOcr(const TomlReader& r, BackendOptions* o) {
  BOTMODELS_RETURN_IF_ERROR(r.RejectUnknown({"language", "psm", "tessdata", "max_pixels"}));
  int64_t psm = o->ocr.psm;
  BOTMODELS_RETURN_IF_ERROR(r.String("language", &o->ocr.language));
  BOTMODELS_RETURN_IF_ERROR(r.Int("psm", &psm, 0, kMaxPsm));
  BOTMODELS_RETURN_IF_ERROR(r.String("tessdata", &o->ocr.tessdata));
  if (o->ocr.language.empty()) return r.Error("language", "name a language, e.g. \"eng\"");
  o->ocr.psm = static_cast<int>(psm);
  return ReadImage(r, &o->image);
}

Status ReadQr(const TomlReader& r, QrOptions* o) {
  BOTMODELS_RETURN_IF_ERROR(r.RejectUnknown({"ec_level", "size", "max_size", "max_text_bytes"}));
  int64_t size = o->size, max_size = o->max_size, max_text = o->max_text_bytes;
  BOTMODELS_RETURN_IF_ERROR(r.String("ec_level", &o->ec_level));
  BOTMODELS_RETURN_IF_ERROR(r.Int("max_size", &max_size, 21, kMaxQrSide));
  BOTMODELS_RETURN_IF_ERROR(r.Int("size", &size, 21, max_size));
  BOTMODELS_RETURN_IF_ERROR(r.Int("max_text_bytes", &max_text, 1, kMaxQrBytes));
  if (o->ec_level != "L" && o->ec_level != "M" && o->ec_level != "Q" && o->ec_level != "H") {
    return r.Error("ec_level", "'" + o->ec_level + "' is not L, M, Q or H");
  }
  o->size = static_cast<int>(size);
  o->max_size = static_cast<int>(max_size);
  o->max_text_bytes = static_cast<int>(max_text);
  return {};
}

Status ReadTts(const TomlReader& r, TtsOptions* o) {
  BOTMODELS_RETURN_IF_ERROR(r.RejectUnknown({"voice", "rate", "max_text_bytes", "espeak_data"}));
  int64_t max_text = static_cast<int64_t>(o->max_text_bytes);
  BOTMODELS_RETURN_IF_ERROR(r.String("voice", &o->voice));
  BOTMODELS_RETURN_IF_ERROR(r.Number("rate", &o->rate, 1 / kMaxRate, kMaxRate));
  BOTMODELS_RETURN_IF_ERROR(r.Int("max_text_bytes", &max_text, 1, kMaxTtsText));
  BOTMODELS_RETURN_IF_ERROR(r.String("espeak_data", &o->espeak_data));
  if (o->voice.empty()) return r.Error("voice", "name a voice, e.g. \"slt\" or \"de\"");
  o->max_text_bytes = static_cast<uint64_t>(max_text);
  return {};
}

Status ReadStt(const TomlReader& r, SttOptions* o) {
  BOTMODELS_RETURN_IF_ERROR(r.RejectUnknown({"model_dir", "max_seconds"}));
  BOTMODELS_RETURN_IF_ERROR(r.String("model_dir", &o->model_dir));
  return r.Number("max_seconds", &o->max_seconds, 1, kMaxSttSeconds);
}

// A part or tokenizer file: a plain name inside the model's folder.
Status ReadFileName(const TomlReader& r, std::string_view key, std::string* out, bool optional) {
  BOTMODELS_RETURN_IF_ERROR(r.String(key, out));
  if (out->empty() && optional) return {};
  if (out->empty() || out->front() == '/' || out->find("..") != std::string::npos) {
    return r.Error(key, "name a file inside the model's folder");
  }
  return {};
}

Status ReadGenerate(const TomlReader& r, GenerateOptions* o) {
  int64_t beams = o->beams, max_beams = o->max_beams, tokens = o->max_new_tokens;
  BOTMODELS_RETURN_IF_ERROR(r.Int("max_beams", &max_beams, 1, kMaxBeams));
  BOTMODELS_RETURN_IF_ERROR(r.Int("beams", &beams, 1, max_beams));
  BOTMODELS_RETURN_IF_ERROR(r.Int("max_new_tokens", &tokens, 1, kMaxNewTokens));
  BOTMODELS_RETURN_IF_ERROR(
      r.Number("repetition_penalty", &o->repetition_penalty, 1 / kMaxPenalty, kMaxPenalty));
  BOTMODELS_RETURN_IF_ERROR(
      r.Number("length_penalty", &o->length_penalty, -kMaxPenalty, kMaxPenalty));
  o->beams = static_cast<int>(beams);
  o->max_beams = static_cast<int>(max_beams);
  o->max_new_tokens = static_cast<int>(tokens);
  return {};
}

Status ReadWhisper(const TomlReader& r, WhisperOptions* o) {
  BOTMODELS_RETURN_IF_ERROR(r.RejectUnknown(
      {"encoder", "decoder", "vocab", "merges", "added_tokens", "n_mels", "multilingual",
       "max_target_positions", "suppress_tokens", "begin_suppress_tokens", "max_seconds", "beams",
       "max_beams", "max_new_tokens", "repetition_penalty", "length_penalty"}));
  for (auto [key, file] : {std::pair{"encoder", &o->encoder},
                           {"decoder", &o->decoder},
                           {"vocab", &o->vocab},
                           {"merges", &o->merges},
                           {"added_tokens", &o->added_tokens}}) {
    BOTMODELS_RETURN_IF_ERROR(ReadFileName(r, key, file, false));
  }
  int64_t mels = o->n_mels, context = o->max_target_positions;
  BOTMODELS_RETURN_IF_ERROR(r.Int("n_mels", &mels, 1, kMaxMels));
  BOTMODELS_RETURN_IF_ERROR(r.Bool("multilingual", &o->multilingual));
  BOTMODELS_RETURN_IF_ERROR(r.Int("max_target_positions", &context, 8, kMaxContext));
  BOTMODELS_RETURN_IF_ERROR(r.IntList("suppress_tokens", &o->suppress_tokens));
  BOTMODELS_RETURN_IF_ERROR(r.IntList("begin_suppress_tokens", &o->begin_suppress_tokens));
  BOTMODELS_RETURN_IF_ERROR(r.Number("max_seconds", &o->max_seconds, 1, kMaxSttSeconds));
  BOTMODELS_RETURN_IF_ERROR(ReadGenerate(r, &o->generate));
  o->n_mels = static_cast<int>(mels);
  o->max_target_positions = static_cast<int>(context);
  if (o->generate.max_new_tokens + 4 > o->max_target_positions) {  // 4: Whisper's prompt
    return r.Error("max_new_tokens", "must leave room for the prompt: at most " +
                                         std::to_string(o->max_target_positions - 4));
  }
  return {};
}

Status ReadCaption(const TomlReader& r, CaptionOptions* o) {
  BOTMODELS_RETURN_IF_ERROR(r.RejectUnknown({"vision_encoder",
                                             "question_encoder",
                                             "text_decoder",
                                             "preprocessor",
                                             "tokenizer",
                                             "vocab",
                                             "merges",
                                             "added_tokens",
                                             "lowercase",
                                             "bos_token",
                                             "eos_token",
                                             "cls_token",
                                             "sep_token",
                                             "max_positions",
                                             "max_prompt_bytes",
                                             "beams",
                                             "max_beams",
                                             "max_new_tokens",
                                             "repetition_penalty",
                                             "length_penalty",
                                             "max_pixels"}));
  for (auto [key, file, optional] : {std::tuple{"vision_encoder", &o->vision_encoder, false},
                                     {"question_encoder", &o->question_encoder, true},
                                     {"text_decoder", &o->text_decoder, false},
                                     {"preprocessor", &o->preprocessor, false},
                                     {"vocab", &o->vocab, false},
                                     {"merges", &o->merges, true},
                                     {"added_tokens", &o->added_tokens, true}}) {
    BOTMODELS_RETURN_IF_ERROR(ReadFileName(r, key, file, optional));
  }
  BOTMODELS_RETURN_IF_ERROR(r.String("tokenizer", &o->tokenizer));
  if (o->tokenizer != "wordpiece" && o->tokenizer != "bpe") {
    return r.Error("tokenizer", "'" + o->tokenizer + "' is not wordpiece or bpe");
  }
  if (o->tokenizer == "bpe" && o->merges.empty()) {
    return r.Error("merges", "a bpe tokenizer needs its merges file");
  }
  BOTMODELS_RETURN_IF_ERROR(r.Bool("lowercase", &o->lowercase));
  for (auto [key, token] : {std::pair{"bos_token", &o->bos_token},
                            {"eos_token", &o->eos_token},
                            {"cls_token", &o->cls_token},
                            {"sep_token", &o->sep_token}}) {
    BOTMODELS_RETURN_IF_ERROR(r.String(key, token));
    if (token->empty()) return r.Error(key, "name the token, e.g. \"[SEP]\"");
  }
  int64_t context = o->max_positions, prompt = static_cast<int64_t>(o->max_prompt_bytes);
  BOTMODELS_RETURN_IF_ERROR(r.Int("max_positions", &context, 8, kMaxContext));
  BOTMODELS_RETURN_IF_ERROR(r.Int("max_prompt_bytes", &prompt, 1, kMaxContext * 16));
  BOTMODELS_RETURN_IF_ERROR(ReadGenerate(r, &o->generate));
  o->max_positions = static_cast<int>(context);
  o->max_prompt_bytes = static_cast<uint64_t>(prompt);
  if (o->generate.max_new_tokens + 2 > o->max_positions) {  // 2: the start token and one of prompt
    return r.Error("max_new_tokens",
                   "must leave room for a prompt: at most " + std::to_string(o->max_positions - 2));
  }
  return {};
}

}  // namespace

std::string_view BackendName(BackendKind kind) {
  for (const auto& [k, name] : kBackendNames) {
    if (k == kind) return name;
  }
  return "torchscript";
}

std::optional<BackendKind> ParseBackend(std::string_view name) {
  for (const auto& [kind, n] : kBackendNames) {
    if (n == name) return kind;
  }
  return std::nullopt;
}

Result<BackendOptions> ReadBackendOptions(const TomlReader& r, BackendKind kind) {
  BackendOptions o;
  Status s;
  switch (kind) {
    case BackendKind::kTorchScript:
    case BackendKind::kIdentity:
      s = r.RejectUnknown({});
      break;
    case BackendKind::kOcr:
      s = ReadOcr(r, &o);
      break;
    case BackendKind::kBarcode:
      s = r.RejectUnknown({"max_pixels"});
      if (s.ok()) s = ReadImage(r, &o.image);
      break;
    case BackendKind::kQrCode:
      s = ReadQr(r, &o.qr);
      break;
    case BackendKind::kTts:
      s = ReadTts(r, &o.tts);
      break;
    case BackendKind::kStt:
      s = ReadStt(r, &o.stt);
      break;
    case BackendKind::kWhisper:
      s = ReadWhisper(r, &o.whisper);
      break;
    case BackendKind::kCaption:
      s = ReadCaption(r, &o.caption);
      if (s.ok()) s = ReadImage(r, &o.image);
      break;
  }
  if (!s.ok()) return s;
  return o;
}

BackendSpecs NativeSpecs(BackendKind kind) {
  switch (kind) {
    case BackendKind::kOcr:
      return {{Spec("image", DType::kBytes), Spec("language", DType::kString, true),
               Spec("psm", DType::kValue, true)},
              {Spec("text", DType::kString), Spec("confidence", DType::kValue),
               Spec("words", DType::kValue), Spec("language", DType::kString),
               Spec("image", DType::kValue)}};
    case BackendKind::kBarcode:
      return {{Spec("image", DType::kBytes)},
              {Spec("codes", DType::kValue), Spec("image", DType::kValue)}};
    case BackendKind::kQrCode:
      return {{Spec("text", DType::kString), Spec("ec_level", DType::kString, true),
               Spec("size", DType::kValue, true)},
              {Spec("image", DType::kBytes)}};
    case BackendKind::kTts:
      return {{Spec("text", DType::kString), Spec("voice", DType::kString, true),
               Spec("language", DType::kString, true), Spec("rate", DType::kValue, true)},
              {Spec("audio", DType::kBytes, true), Spec("pcm", DType::kBytes, true),
               Spec("sample_rate", DType::kValue), Spec("voice", DType::kString, true)}};
    case BackendKind::kStt:
      return {{Spec("audio", DType::kBytes), Spec("grammar", DType::kString, true),
               Spec("keywords", DType::kValue, true)},
              {Spec("text", DType::kString), Spec("confidence", DType::kValue),
               Spec("words", DType::kValue), Spec("language", DType::kString),
               Spec("duration_s", DType::kValue)}};
    case BackendKind::kWhisper:
      return {{Spec("audio", DType::kBytes), Spec("language", DType::kString, true),
               Spec("task", DType::kString, true), Spec("beams", DType::kValue, true),
               Spec("max_new_tokens", DType::kValue, true)},
              {Spec("text", DType::kString), Spec("language", DType::kString),
               Spec("language_probability", DType::kValue), Spec("confidence", DType::kValue),
               Spec("segments", DType::kValue), Spec("duration_s", DType::kValue)}};
    case BackendKind::kCaption:
      return {{Spec("image", DType::kBytes), Spec("prompt", DType::kString, true),
               Spec("question", DType::kString, true), Spec("beams", DType::kValue, true),
               Spec("max_new_tokens", DType::kValue, true)},
              {Spec("text", DType::kString), Spec("confidence", DType::kValue),
               Spec("tokens", DType::kValue), Spec("image", DType::kValue)}};
    case BackendKind::kTorchScript:
    case BackendKind::kIdentity:
      break;
  }
  return {};
}

}  // namespace botmodels
