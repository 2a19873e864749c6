#pragma once

// The caption backend's model.toml [options], inputs and outputs: torch-free
// (models/registry).

#include <cstdint>
#include <string>

#include "common/status.h"
#include "common/toml_reader.h"
#include "models/pipelines/generate_options.h"
#include "models/spec/backend_specs.h"
#include "models/spec/option_readers.h"

namespace botmodels {

// Files relative to the model's folder, as tools/export/export_caption.py
// writes them (docs/models.md).
struct CaptionOptions {
  std::string vision_encoder = "vision_encoder.pt";  // pixels [1, 3, H, W] -> states [1, N, width]
  // A VQA model's: (question ids [1, Q], image states) -> states [1, Q, width]; "" for a captioner.
  std::string question_encoder;
  // (ids int64 [rows, T], states [rows, N, width]) -> logits [rows, vocab] of the last position
  std::string text_decoder = "text_decoder.pt";
  std::string preprocessor = "preprocessor_config.json";  // transformers' image processor config
  std::string tokenizer = "wordpiece";                    // or "bpe"
  std::string vocab = "vocab.txt";          // vocab.txt (wordpiece) or vocab.json (bpe)
  std::string merges;                       // bpe only
  std::string added_tokens;                 // optional: {"[DEC]": 30522, ...}
  bool lowercase = true;                    // wordpiece: an uncased vocabulary
  std::string bos_token = "[DEC]";          // starts the generated text
  std::string eos_token = "[SEP]";          // ends it
  std::string cls_token = "[CLS]";          // VQA: opens the question
  std::string sep_token = "[SEP]";          // VQA: closes it
  int max_positions = 512;                  // the decoder's context, in tokens
  uint64_t max_prompt_bytes = 2000;         // a longer prompt or question is refused
  uint64_t max_pixels = kDefaultMaxPixels;  // larger images are refused
  GenerateOptions generate{1, 8, 30, 1.0, 1.0};

  bool operator==(const CaptionOptions&) const = default;
};

// The names of its inputs and outputs (docs/models.md#captioning).
namespace caption_io {
inline constexpr char kImage[] = "image";        // in: the encoded image; out: its size, format
inline constexpr char kPrompt[] = "prompt";      // in: the caption's start
inline constexpr char kQuestion[] = "question";  // in: VQA
inline constexpr char kBeams[] = "beams";
inline constexpr char kMaxNewTokens[] = "max_new_tokens";
inline constexpr char kText[] = "text";
inline constexpr char kConfidence[] = "confidence";
inline constexpr char kTokens[] = "tokens";
}  // namespace caption_io

Result<CaptionOptions> ReadCaptionOptions(const TomlReader& options);
BackendSpecs CaptionSpecs();

}  // namespace botmodels
