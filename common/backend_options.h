#pragma once

// The backends: their names in model.toml, and for those that declare their
// own inputs and outputs (native libraries in models/vision and
// models/speech, pipelines in models/pipelines) those and their [options]
// table. Torch-free and library-free, so that the broker validates a model
// and lists its inputs without linking Tesseract, PocketSphinx or libtorch.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol.h"
#include "common/status.h"
#include "common/toml_reader.h"

namespace botmodels {

// What runs a model's forward.
enum class BackendKind {
  kTorchScript,     // `file` is a TorchScript module (torch::jit::load)
  kIdentity,        // no file, no torch: outputs are the inputs (benchmarks, smoke tests)
  kOcr,             // Tesseract 5 (LSTM): text, words and boxes in an image
  kBarcode,         // ZXing-cpp: every barcode and QR code in an image
  kQrCode,          // ZXing-cpp: a QR code of a text, as a PNG
  kTts,             // Flite (English voices) and eSpeak NG (~100 languages): text to speech
  kStt,             // PocketSphinx (US English): speech to text
  kWhisper,         // pipeline: Whisper speech to text over TorchScript parts
  kCaption,         // pipeline: image captioning / visual question answering (BLIP-style)
  kDiffusion,       // pipeline: text to image (Stable Diffusion-style latent diffusion)
  kVideoDiffusion,  // pipeline: text to video (the same, over latents with a frames dimension)
};
std::string_view BackendName(BackendKind kind);
std::optional<BackendKind> ParseBackend(std::string_view name);
// True for the pipelines over TorchScript parts (models/pipelines).
inline bool IsPipeline(BackendKind kind) {
  return kind == BackendKind::kWhisper || kind == BackendKind::kCaption ||
         kind == BackendKind::kDiffusion || kind == BackendKind::kVideoDiffusion;
}
// True for the backends that need libtorch (served by botmodels-worker; the
// others by botmodels-worker-native).
inline bool NeedsTorch(BackendKind kind) {
  return kind == BackendKind::kTorchScript || IsPipeline(kind);
}
// True for the backends over native libraries: they run on the CPU.
inline bool IsNative(BackendKind kind) {
  return kind != BackendKind::kTorchScript && kind != BackendKind::kIdentity && !IsPipeline(kind);
}
// True for the backends that declare their own inputs and outputs (NativeSpecs).
inline bool DeclaresSpecs(BackendKind kind) { return IsNative(kind) || IsPipeline(kind); }

// Images in (ocr, barcode).
struct ImageOptions {
  // Decompression bombs: an image whose header claims more pixels is refused
  // before it is decoded. 50 MP holds an A3 page at 600 dpi and any phone photo.
  uint64_t max_pixels = 50'000'000;

  bool operator==(const ImageOptions&) const = default;
};

struct OcrOptions {
  std::string language = "eng";  // Tesseract's codes; "eng+deu" combines; a request may override
  int psm = 3;                   // page segmentation mode 0-13; 3 = automatic
  std::string tessdata = "/usr/share/tesseract-ocr/5/tessdata";  // Debian's tesseract-ocr-*

  bool operator==(const OcrOptions&) const = default;
};

struct QrOptions {
  std::string ec_level = "M";  // L, M, Q or H: 7, 15, 25 or 30 % of the code may be lost
  int size = 256;              // px, the side of the PNG unless a request asks otherwise
  int max_size = 4096;         // px: a request's size above this is refused (16 MP of PNG)
  int max_text_bytes = 2953;   // the most a QR code holds (version 40, level L, bytes)

  bool operator==(const QrOptions&) const = default;
};

struct TtsOptions {
  std::string voice =
      "slt";          // Flite: slt, awb, rms, kal16; else an eSpeak NG voice ("de", "en-us")
  double rate = 1.0;  // speaking rate; 2 = twice as fast
  uint64_t max_text_bytes = 100'000;  // ~2 hours of speech: longer texts are split by the caller
  std::string espeak_data = "/usr/lib/x86_64-linux-gnu/espeak-ng-data";

  bool operator==(const TtsOptions&) const = default;
};

struct SttOptions {
  std::string model_dir = "/usr/share/pocketsphinx/model/en-us";  // Debian's pocketsphinx-en-us
  double max_seconds = 600;  // audio longer than 10 min is refused (a voice note is < 5)

  bool operator==(const SttOptions&) const = default;
};

// Decoding, for the pipelines: a request may override `beams` and
// `max_new_tokens` up to the limits here.
struct GenerateOptions {
  int beams = 1;                    // 1: greedy (text streams); more: beam search
  int max_beams = 8;                // a request's `beams` above this is refused
  int max_new_tokens = 128;         // per caption, or per 30 s of speech
  double repetition_penalty = 1.0;  // > 1 discourages repeating a token
  double length_penalty = 1.0;      // beam search: > 1 favours longer text

  bool operator==(const GenerateOptions&) const = default;
};

// backend = "whisper": files relative to the model's folder, as
// tools/export/export_whisper.py writes them (docs/models.md).
struct WhisperOptions {
  std::string encoder = "encoder.pt";  // mel [1, n_mels, 3000] -> states [1, frames, width]
  // (tokens int64 [rows, T], states [rows, frames, width]) -> logits [rows, vocab] of the last
  // position
  std::string decoder = "decoder.pt";
  std::string vocab = "vocab.json";                // byte-level BPE vocabulary
  std::string merges = "merges.txt";               // and its merges
  std::string added_tokens = "added_tokens.json";  // special tokens: {"<|endoftext|>": 50257, ...}
  int n_mels = 80;                                 // 128 for large-v3
  bool multilingual = true;                       // false for the *.en models: no language, no task
  int max_target_positions = 448;                 // the decoder's context, in tokens
  std::vector<int64_t> suppress_tokens;           // never generated (generation_config.json)
  std::vector<int64_t> begin_suppress_tokens;     // never generated first
  double max_seconds = 1800;                      // longer audio is refused: 30 min
  GenerateOptions generate{1, 8, 224, 1.0, 1.0};  // 224: Whisper's sample_len, half its context

  bool operator==(const WhisperOptions&) const = default;
};

// backend = "caption": files relative to the model's folder, as
// tools/export/export_caption.py writes them (docs/models.md).
struct CaptionOptions {
  std::string vision_encoder = "vision_encoder.pt";  // pixels [1, 3, H, W] -> states [1, N, width]
  // A VQA model's: (question ids [1, Q], image states) -> states [1, Q, width]; "" for a captioner.
  std::string question_encoder;
  // (ids int64 [rows, T], states [rows, N, width]) -> logits [rows, vocab] of the last position
  std::string text_decoder = "text_decoder.pt";
  std::string preprocessor = "preprocessor_config.json";  // transformers' image processor config
  std::string tokenizer = "wordpiece";                    // or "bpe"
  std::string vocab = "vocab.txt";   // vocab.txt (wordpiece) or vocab.json (bpe)
  std::string merges;                // bpe only
  std::string added_tokens;          // optional: {"[DEC]": 30522, ...}
  bool lowercase = true;             // wordpiece: an uncased vocabulary
  std::string bos_token = "[DEC]";   // starts the generated text
  std::string eos_token = "[SEP]";   // ends it
  std::string cls_token = "[CLS]";   // VQA: opens the question
  std::string sep_token = "[SEP]";   // VQA: closes it
  int max_positions = 512;           // the decoder's context, in tokens
  uint64_t max_prompt_bytes = 2000;  // a longer prompt or question is refused
  GenerateOptions generate{1, 8, 30, 1.0, 1.0};

  bool operator==(const CaptionOptions&) const = default;
};

// The noise schedule a diffusion model was trained with (diffusers'
// scheduler_config.json), and how a request's steps walk it.
struct ScheduleOptions {
  int train_timesteps = 1000;                   // num_train_timesteps
  double beta_start = 0.00085;                  // Stable Diffusion's
  double beta_end = 0.012;                      // Stable Diffusion's
  std::string beta_schedule = "scaled_linear";  // or "linear", "squaredcos_cap_v2"
  std::string prediction = "epsilon";           // the denoiser predicts noise, or "v_prediction"
  std::string timestep_spacing = "leading";     // or "trailing" (turbo models), "linspace"
  int steps_offset = 1;                         // added to "leading" timesteps (SD 1.x: 1)

  bool operator==(const ScheduleOptions&) const = default;
};

// backend = "diffusion" (images) or "video_diffusion": files relative to the
// model's folder, as tools/export/export_diffusion.py writes them
// (docs/models.md#diffusion).
struct DiffusionOptions {
  // ids int64 [B, max_text_tokens] -> embeddings [B, tokens, width], or a
  // tuple of tensors (SDXL: and pooled): all are handed to the denoiser.
  std::string text_encoder = "text_encoder.pt";
  // (latents [B, C, h, w] (video: [B, C, frames, h, w]), timesteps float
  // [B], the text encoder's outputs...) -> noise (or v), shaped as latents
  std::string denoiser = "denoiser.pt";
  // latents [B, C, h, w], already divided by latent_scale -> pixels
  // [B, 3, h * vae_scale_factor, w * vae_scale_factor] in [-1, 1]
  std::string vae_decoder = "vae_decoder.pt";
  std::string vocab = "vocab.json";           // CLIP's byte-level BPE vocabulary
  std::string merges = "merges.txt";          // and its merges
  std::string bos_token = "<|startoftext|>";  // opens the text
  std::string eos_token = "<|endoftext|>";    // closes it
  std::string pad_token = "<|endoftext|>";    // fills it up (SD 2.x, turbo: "!")
  int max_text_tokens = 77;                   // CLIP's context, with both ends
  int latent_channels = 4;                    // SD 1.x/2.x/XL: 4
  int vae_scale_factor = 8;                   // pixels per latent, on each side
  double latent_scale = 0.18215;              // the VAE's scaling_factor (SDXL: 0.13025)
  ScheduleOptions schedule;
  std::string scheduler = "dpmpp_2m";  // or "euler", "euler_a", "lcm"; a request may choose
  bool karras = false;                 // Karras sigmas (euler, euler_a, dpmpp_2m)
  // false for distilled few-step models (turbo, LCM): one denoiser call per
  // step, without a negative prompt; a request's guidance_scale is ignored.
  bool guidance = true;
  int steps = 30;  // a request may ask for 1..max_steps
  int max_steps = 150;
  double guidance_scale = 7.5;  // classifier-free guidance; <= 1: none
  double max_guidance_scale = 30;
  int width = 512, height = 512;            // px, multiples of vae_scale_factor
  int max_width = 2048, max_height = 2048;  // px: a larger request is refused
  std::string dtype = "auto";  // float32, float16, bfloat16; auto: float16 on CUDA, else float32
  // Activation bytes per output pixel (tools/export measures them): a
  // request needing more than the device has free is out_of_memory before
  // it starts. 0: no check.
  uint64_t memory_per_pixel = 0;
  uint64_t max_prompt_bytes = 8000;  // a longer prompt is refused (77 tokens use ~400)
  // video_diffusion only:
  int frames = 16, max_frames = 128;  // frames per video
  int fps = 8, max_fps = 60;          // frames per second of the MP4
  int vae_batch = 8;                  // frames decoded at once: bounds the VAE's memory
  int crf = 23;  // H.264 quality: 0 lossless ... 51 worst; 23 is x264's default

  bool operator==(const DiffusionOptions&) const = default;
};

struct BackendOptions {
  ImageOptions image;
  OcrOptions ocr;
  QrOptions qr;
  TtsOptions tts;
  SttOptions stt;
  WhisperOptions whisper;
  CaptionOptions caption;
  DiffusionOptions diffusion;

  bool operator==(const BackendOptions&) const = default;
};
// Reads the model's [options] table for `kind`: only that backend's keys,
// each range-checked; errors name the file, line and field.
Result<BackendOptions> ReadBackendOptions(const TomlReader& options, BackendKind kind);

// The inputs and outputs a native backend or pipeline declares (docs/models.md).
struct BackendSpecs {
  std::vector<protocol::TensorSpec> inputs;
  std::vector<protocol::TensorSpec> outputs;
};
BackendSpecs NativeSpecs(BackendKind kind);

}  // namespace botmodels
