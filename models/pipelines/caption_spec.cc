#include "models/pipelines/caption_spec.h"

#include <tuple>
#include <utility>

namespace botmodels {

Result<CaptionOptions> ReadCaptionOptions(const TomlReader& r) {
  constexpr int kStartAndPrompt = 2;  // the start token and one of prompt
  CaptionOptions o;
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
  for (auto [key, file, optional] : {std::tuple{"vision_encoder", &o.vision_encoder, false},
                                     {"question_encoder", &o.question_encoder, true},
                                     {"text_decoder", &o.text_decoder, false},
                                     {"preprocessor", &o.preprocessor, false},
                                     {"vocab", &o.vocab, false},
                                     {"merges", &o.merges, true},
                                     {"added_tokens", &o.added_tokens, true}}) {
    BOTMODELS_RETURN_IF_ERROR(ReadFileName(r, key, file, optional));
  }
  BOTMODELS_RETURN_IF_ERROR(r.String("tokenizer", &o.tokenizer));
  if (o.tokenizer != "wordpiece" && o.tokenizer != "bpe") {
    return r.Error("tokenizer", "'" + o.tokenizer + "' is not wordpiece or bpe");
  }
  if (o.tokenizer == "bpe" && o.merges.empty()) {
    return r.Error("merges", "a bpe tokenizer needs its merges file");
  }
  BOTMODELS_RETURN_IF_ERROR(r.Bool("lowercase", &o.lowercase));
  for (auto [key, token] : {std::pair{"bos_token", &o.bos_token},
                            {"eos_token", &o.eos_token},
                            {"cls_token", &o.cls_token},
                            {"sep_token", &o.sep_token}}) {
    BOTMODELS_RETURN_IF_ERROR(r.String(key, token));
    if (token->empty()) return r.Error(key, "name the token, e.g. \"[SEP]\"");
  }
  BOTMODELS_RETURN_IF_ERROR(ReadInt(r, "max_positions", &o.max_positions, 8, kMaxContextTokens));
  BOTMODELS_RETURN_IF_ERROR(
      ReadInt(r, "max_prompt_bytes", &o.max_prompt_bytes, 1, kMaxContextTokens * 16));
  BOTMODELS_RETURN_IF_ERROR(ReadGenerateOptions(r, &o.generate));
  if (o.generate.max_new_tokens + kStartAndPrompt > o.max_positions) {
    return r.Error("max_new_tokens", "must leave room for a prompt: at most " +
                                         std::to_string(o.max_positions - kStartAndPrompt));
  }
  BOTMODELS_RETURN_IF_ERROR(ReadMaxPixels(r, &o.max_pixels));
  return o;
}

BackendSpecs CaptionSpecs() {
  using protocol::DType;
  using namespace caption_io;
  return {{SpecOf(kImage, DType::kBytes), SpecOf(kPrompt, DType::kString, true),
           SpecOf(kQuestion, DType::kString, true), SpecOf(kBeams, DType::kValue, true),
           SpecOf(kMaxNewTokens, DType::kValue, true)},
          {SpecOf(kText, DType::kString), SpecOf(kConfidence, DType::kValue),
           SpecOf(kTokens, DType::kValue), SpecOf(kImage, DType::kValue)}};
}

}  // namespace botmodels
