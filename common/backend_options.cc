#include "common/backend_options.h"

#include <array>
#include <initializer_list>
#include <utility>

namespace botmodels {
namespace {

using protocol::DType;
using protocol::TensorSpec;

constexpr std::array<std::pair<BackendKind, std::string_view>, 11> kBackendNames{{
    {BackendKind::kTorchScript, "torchscript"},
    {BackendKind::kIdentity, "identity"},
    {BackendKind::kOcr, "ocr"},
    {BackendKind::kBarcode, "barcode"},
    {BackendKind::kQrCode, "qrcode"},
    {BackendKind::kTts, "tts"},
    {BackendKind::kStt, "stt"},
    {BackendKind::kWhisper, "whisper"},
    {BackendKind::kCaption, "caption"},
    {BackendKind::kDiffusion, "diffusion"},
    {BackendKind::kVideoDiffusion, "video_diffusion"},
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
constexpr int64_t kMaxTrainTimesteps = 100'000;      // models train with 1000
constexpr int64_t kMaxSteps = 1000;                  // one per training timestep
constexpr int64_t kMaxSide = 16384;                  // px: 256 MP, past any GPU's memory
constexpr int64_t kMaxFrames = 4096;                 // frames: minutes of video
constexpr int64_t kMaxCrf = 51;                      // x264's scale

// `value` is one of `choices`, or an error naming them.
Status OneOf(const TomlReader& r, std::string_view key, const std::string& value,
             std::initializer_list<std::string_view> choices) {
  std::string names;
  for (std::string_view c : choices) {
    if (value == c) return {};
    names += (names.empty() ? "" : ", ") + std::string(c);
  }
  return r.Error(key, "'" + value + "' is not one of " + names);
}

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

Status ReadSchedule(const TomlReader& r, ScheduleOptions* o) {
  int64_t timesteps = o->train_timesteps, offset = o->steps_offset;
  BOTMODELS_RETURN_IF_ERROR(r.Int("train_timesteps", &timesteps, 2, kMaxTrainTimesteps));
  BOTMODELS_RETURN_IF_ERROR(r.Number("beta_start", &o->beta_start, 1e-8, 0.999));
  BOTMODELS_RETURN_IF_ERROR(r.Number("beta_end", &o->beta_end, o->beta_start, 0.999));
  BOTMODELS_RETURN_IF_ERROR(r.String("beta_schedule", &o->beta_schedule));
  BOTMODELS_RETURN_IF_ERROR(OneOf(r, "beta_schedule", o->beta_schedule,
                                  {"linear", "scaled_linear", "squaredcos_cap_v2"}));
  BOTMODELS_RETURN_IF_ERROR(r.String("prediction", &o->prediction));
  BOTMODELS_RETURN_IF_ERROR(OneOf(r, "prediction", o->prediction, {"epsilon", "v_prediction"}));
  BOTMODELS_RETURN_IF_ERROR(r.String("timestep_spacing", &o->timestep_spacing));
  BOTMODELS_RETURN_IF_ERROR(
      OneOf(r, "timestep_spacing", o->timestep_spacing, {"leading", "trailing", "linspace"}));
  BOTMODELS_RETURN_IF_ERROR(r.Int("steps_offset", &offset, 0, timesteps - 1));
  o->train_timesteps = static_cast<int>(timesteps);
  o->steps_offset = static_cast<int>(offset);
  return {};
}

Status ReadDiffusion(const TomlReader& r, DiffusionOptions* o, bool video) {
  std::vector<std::string_view> keys = {"text_encoder",
                                        "denoiser",
                                        "vae_decoder",
                                        "vocab",
                                        "merges",
                                        "bos_token",
                                        "eos_token",
                                        "pad_token",
                                        "max_text_tokens",
                                        "latent_channels",
                                        "vae_scale_factor",
                                        "latent_scale",
                                        "train_timesteps",
                                        "beta_start",
                                        "beta_end",
                                        "beta_schedule",
                                        "prediction",
                                        "timestep_spacing",
                                        "steps_offset",
                                        "scheduler",
                                        "karras",
                                        "guidance",
                                        "steps",
                                        "max_steps",
                                        "guidance_scale",
                                        "max_guidance_scale",
                                        "width",
                                        "height",
                                        "max_width",
                                        "max_height",
                                        "dtype",
                                        "memory_per_pixel",
                                        "max_prompt_bytes"};
  if (video)
    keys.insert(keys.end(), {"frames", "max_frames", "fps", "max_fps", "vae_batch", "crf"});
  BOTMODELS_RETURN_IF_ERROR(r.RejectUnknown(keys));
  for (auto [key, file] : {std::pair{"text_encoder", &o->text_encoder},
                           {"denoiser", &o->denoiser},
                           {"vae_decoder", &o->vae_decoder},
                           {"vocab", &o->vocab},
                           {"merges", &o->merges}}) {
    BOTMODELS_RETURN_IF_ERROR(ReadFileName(r, key, file, false));
  }
  for (auto [key, token] : {std::pair{"bos_token", &o->bos_token},
                            {"eos_token", &o->eos_token},
                            {"pad_token", &o->pad_token}}) {
    BOTMODELS_RETURN_IF_ERROR(r.String(key, token));
    if (token->empty()) return r.Error(key, "name the token, e.g. \"<|endoftext|>\"");
  }
  int64_t tokens = o->max_text_tokens, channels = o->latent_channels, factor = o->vae_scale_factor,
          steps = o->steps, max_steps = o->max_steps, width = o->width, height = o->height,
          max_width = o->max_width, max_height = o->max_height,
          per_pixel = static_cast<int64_t>(o->memory_per_pixel),
          prompt = static_cast<int64_t>(o->max_prompt_bytes);
  BOTMODELS_RETURN_IF_ERROR(r.Int("max_text_tokens", &tokens, 3, kMaxContext));
  BOTMODELS_RETURN_IF_ERROR(r.Int("latent_channels", &channels, 1, 1024));
  BOTMODELS_RETURN_IF_ERROR(r.Int("vae_scale_factor", &factor, 1, 64));
  BOTMODELS_RETURN_IF_ERROR(r.Number("latent_scale", &o->latent_scale, 1e-6, 1e6));
  BOTMODELS_RETURN_IF_ERROR(ReadSchedule(r, &o->schedule));
  BOTMODELS_RETURN_IF_ERROR(r.String("scheduler", &o->scheduler));
  BOTMODELS_RETURN_IF_ERROR(
      OneOf(r, "scheduler", o->scheduler, {"euler", "euler_a", "dpmpp_2m", "lcm"}));
  BOTMODELS_RETURN_IF_ERROR(r.Bool("karras", &o->karras));
  BOTMODELS_RETURN_IF_ERROR(r.Bool("guidance", &o->guidance));
  BOTMODELS_RETURN_IF_ERROR(r.Int("max_steps", &max_steps, 1, kMaxSteps));
  BOTMODELS_RETURN_IF_ERROR(r.Int("steps", &steps, 1, max_steps));
  BOTMODELS_RETURN_IF_ERROR(r.Number("max_guidance_scale", &o->max_guidance_scale, 0, 100));
  BOTMODELS_RETURN_IF_ERROR(
      r.Number("guidance_scale", &o->guidance_scale, 0, o->max_guidance_scale));
  BOTMODELS_RETURN_IF_ERROR(r.Int("max_width", &max_width, factor, kMaxSide));
  BOTMODELS_RETURN_IF_ERROR(r.Int("max_height", &max_height, factor, kMaxSide));
  BOTMODELS_RETURN_IF_ERROR(r.Int("width", &width, factor, max_width));
  BOTMODELS_RETURN_IF_ERROR(r.Int("height", &height, factor, max_height));
  if (width % factor != 0) return r.Error("width", "must be a multiple of vae_scale_factor");
  if (height % factor != 0) return r.Error("height", "must be a multiple of vae_scale_factor");
  BOTMODELS_RETURN_IF_ERROR(r.String("dtype", &o->dtype));
  BOTMODELS_RETURN_IF_ERROR(
      OneOf(r, "dtype", o->dtype, {"auto", "float32", "float16", "bfloat16"}));
  BOTMODELS_RETURN_IF_ERROR(r.Int("memory_per_pixel", &per_pixel, 0, int64_t{1} << 20));
  BOTMODELS_RETURN_IF_ERROR(r.Int("max_prompt_bytes", &prompt, 1, kMaxContext * 16));
  o->max_text_tokens = static_cast<int>(tokens);
  o->latent_channels = static_cast<int>(channels);
  o->vae_scale_factor = static_cast<int>(factor);
  o->steps = static_cast<int>(steps);
  o->max_steps = static_cast<int>(max_steps);
  o->width = static_cast<int>(width);
  o->height = static_cast<int>(height);
  o->max_width = static_cast<int>(max_width);
  o->max_height = static_cast<int>(max_height);
  o->memory_per_pixel = static_cast<uint64_t>(per_pixel);
  o->max_prompt_bytes = static_cast<uint64_t>(prompt);
  if (!video) return {};
  int64_t frames = o->frames, max_frames = o->max_frames, fps = o->fps, max_fps = o->max_fps,
          vae_batch = o->vae_batch, crf = o->crf;
  BOTMODELS_RETURN_IF_ERROR(r.Int("max_frames", &max_frames, 1, kMaxFrames));
  BOTMODELS_RETURN_IF_ERROR(r.Int("frames", &frames, 1, max_frames));
  BOTMODELS_RETURN_IF_ERROR(r.Int("max_fps", &max_fps, 1, 240));
  BOTMODELS_RETURN_IF_ERROR(r.Int("fps", &fps, 1, max_fps));
  BOTMODELS_RETURN_IF_ERROR(r.Int("vae_batch", &vae_batch, 1, kMaxFrames));
  BOTMODELS_RETURN_IF_ERROR(r.Int("crf", &crf, 0, kMaxCrf));
  o->frames = static_cast<int>(frames);
  o->max_frames = static_cast<int>(max_frames);
  o->fps = static_cast<int>(fps);
  o->max_fps = static_cast<int>(max_fps);
  o->vae_batch = static_cast<int>(vae_batch);
  o->crf = static_cast<int>(crf);
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
    case BackendKind::kDiffusion:
    case BackendKind::kVideoDiffusion:
      s = ReadDiffusion(r, &o.diffusion, kind == BackendKind::kVideoDiffusion);
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
    case BackendKind::kDiffusion:
    case BackendKind::kVideoDiffusion: {
      const bool video = kind == BackendKind::kVideoDiffusion;
      BackendSpecs specs{
          {Spec("prompt", DType::kString), Spec("negative_prompt", DType::kString, true),
           Spec("steps", DType::kValue, true), Spec("width", DType::kValue, true),
           Spec("height", DType::kValue, true), Spec("guidance_scale", DType::kValue, true),
           Spec("seed", DType::kValue, true), Spec("scheduler", DType::kString, true)},
          {Spec(video ? "video" : "image", DType::kBytes), Spec("seed", DType::kValue),
           Spec("parameters", DType::kValue), Spec("step", DType::kValue, true),
           Spec("steps", DType::kValue, true)}};
      if (video) {
        specs.inputs.push_back(Spec("num_frames", DType::kValue, true));
        specs.inputs.push_back(Spec("fps", DType::kValue, true));
      }
      return specs;
    }
    case BackendKind::kTorchScript:
    case BackendKind::kIdentity:
      break;
  }
  return {};
}

}  // namespace botmodels
