#include "models/pipelines/caption_backend.h"

#include <ATen/Parallel.h>

#include <cmath>

#include "common/value.h"
#include "models/pipelines/bpe_tokenizer.h"
#include "models/pipelines/generation_inputs.h"
#include "models/pipelines/script_decoder.h"
#include "models/pipelines/text_stream.h"
#include "models/pipelines/wordpiece_tokenizer.h"

namespace botmodels {
namespace {

// What a reply views, kept alive by ModelOutputs::owner.
struct CaptionResult {
  std::string text, confidence, tokens, image;
};

}  // namespace

CaptionBackend::CaptionBackend(ModelConfig config, const std::string& device)
    : PipelineBackend(std::move(config), device),
      options_(config_.options.Get<CaptionOptions>()),
      images_(config_.options.Get<CaptionOptions>().max_pixels) {}

Status CaptionBackend::LoadTokenizer() {
  if (options_.tokenizer == "bpe") {
    auto bpe = BpeTokenizer::Load(PathOf(options_.vocab), PathOf(options_.merges));
    if (!bpe.ok()) return bpe.status();
    tokenizer_ = std::make_unique<BpeTokenizer>(std::move(*bpe));
  } else {
    auto wordpiece = WordPieceTokenizer::Load(PathOf(options_.vocab), options_.lowercase);
    if (!wordpiece.ok()) return wordpiece.status();
    tokenizer_ = std::make_unique<WordPieceTokenizer>(std::move(*wordpiece));
  }
  if (!options_.added_tokens.empty()) {
    BOTMODELS_RETURN_IF_ERROR(AddSpecialTokens(PathOf(options_.added_tokens), tokenizer_.get()));
  }
  for (auto [text, id] : {std::pair{&options_.bos_token, &bos_},
                          {&options_.eos_token, &eos_},
                          {&options_.cls_token, &cls_},
                          {&options_.sep_token, &sep_}}) {
    *id = tokenizer_->Id(*text);
    if (*id < 0) {
      return Status(ErrorCode::kModelLoadFailed,
                    "caption: the tokenizer (" + PathOf(options_.vocab) +
                        (options_.added_tokens.empty() ? "" : ", " + options_.added_tokens) +
                        ") has no " + *text + " token");
    }
    tokenizer_->AddSpecial(*text, *id);  // never part of the text
  }
  return {};
}

Status CaptionBackend::LoadParts() {
  BOTMODELS_RETURN_IF_ERROR(LoadTokenizer());
  auto preprocessor = ImagePreprocessor::Load(PathOf(options_.preprocessor));
  if (!preprocessor.ok()) return preprocessor.status();
  preprocessor_.emplace(std::move(*preprocessor));
  for (auto [file, module] : {std::pair{&options_.vision_encoder, &vision_},
                              {&options_.question_encoder, &question_},
                              {&options_.text_decoder, &decoder_}}) {
    if (file->empty()) continue;
    auto loaded = device_.Load(PathOf(*file), {"cross"});
    if (!loaded.ok()) return loaded.status();
    *module = std::move(*loaded);
  }
  PixPtr grey(pixCreate(kWarmupSide, kWarmupSide, 32));
  pixSetAllArbitrary(grey.get(), 0x80808000);
  for (int i = 0; i < kWarmupRuns; ++i) {
    auto states = EncodeImage(grey.get());
    if (!states.ok()) {
      return Status(ErrorCode::kModelLoadFailed,
                    PathOf(options_.vision_encoder) + ": " + states.status().message());
    }
    auto ids = Tokenize(answers_questions() ? "what is this?" : "", 1);
    if (!ids.ok()) return Status(ErrorCode::kModelLoadFailed, ids.status().message());
    auto decoder_states = DecoderStates(*states, *ids);
    if (!decoder_states.ok()) {
      return Status(ErrorCode::kModelLoadFailed,
                    PathOf(options_.question_encoder) + ": " + decoder_states.status().message());
    }
    ScriptDecoder decoder(decoder_, *decoder_states, device_);
    auto logits = decoder.Logits(answers_questions() ? Tokens{bos_} : *ids);
    if (!logits.ok()) {
      return Status(ErrorCode::kModelLoadFailed,
                    PathOf(options_.text_decoder) + ": " + logits.status().message());
    }
  }
  return {};
}

Result<torch::Tensor> CaptionBackend::EncodeImage(Pix* pix) {
  return device_.Run([&]() -> Result<torch::Tensor> {
    const c10::IValue states =
        vision_.forward({preprocessor_->Process(pix).to(device_.device(), device_.FloatType())});
    if (!states.isTensor() || states.toTensor().dim() != 3 || states.toTensor().size(0) != 1) {
      return Status(ErrorCode::kInternal,
                    "the vision encoder part must return states [1, patches, width]");
    }
    return states.toTensor();
  });
}

Result<Tokens> CaptionBackend::Tokenize(std::string_view text, int max_new_tokens) const {
  const Tokens words = tokenizer_->Encode(text);
  // A captioner's prompt is [DEC] and the prompt's tokens, which the caption
  // then follows; a VQA model's question is [CLS] question [SEP] (transformers' BLIP).
  Tokens ids{answers_questions() ? cls_ : bos_};
  ids.insert(ids.end(), words.begin(), words.end());
  if (answers_questions()) ids.push_back(sep_);
  const size_t room = static_cast<size_t>(options_.max_positions) -
                      (answers_questions() ? 0 : static_cast<size_t>(max_new_tokens));
  if (ids.size() > room) {
    return InvalidRequest(
        "the " + std::string(answers_questions() ? "question" : "prompt") + " is " +
        std::to_string(ids.size()) + " tokens; model '" + config_.name + "' has room for " +
        std::to_string(room) + " in its context of " + std::to_string(options_.max_positions) +
        (answers_questions() ? "" : " with max_new_tokens " + std::to_string(max_new_tokens)));
  }
  return ids;
}

Result<torch::Tensor> CaptionBackend::DecoderStates(const torch::Tensor& image_states,
                                                    const Tokens& ids) {
  if (!answers_questions()) return image_states;
  return device_.Run([&]() -> Result<torch::Tensor> {
    const torch::Tensor question =
        torch::tensor(ids, torch::kInt64).unsqueeze(0).to(device_.device());
    const c10::IValue states = question_.forward({question, image_states});
    if (!states.isTensor() || states.toTensor().dim() != 3 || states.toTensor().size(0) != 1) {
      return Status(ErrorCode::kInternal,
                    "the question encoder part must return states [1, tokens, width]");
    }
    return states.toTensor();
  });
}

Result<ModelOutputs> CaptionBackend::InferRequest(const protocol::TensorViews& inputs,
                                                  const RequestContext& request) {
  const PartialSink& partial = request.partial;
  BOTMODELS_RETURN_IF_ERROR(Load());
  auto generation = RequestedGeneration(options_.generate, inputs);
  if (!generation.ok()) return generation.status();
  generation->stop_tokens = {eos_};
  const auto prompt = OptionalString(inputs, "prompt");
  const auto question = OptionalString(inputs, "question");
  std::string_view text;
  if (answers_questions()) {
    if (prompt)
      return InvalidRequest("model '" + config_.name +
                            "' answers questions: send `question`, not `prompt`");
    text = Trimmed(question.value_or(""));
    if (text.empty())
      return InvalidRequest("input 'question': model '" + config_.name + "' needs a question");
  } else {
    if (question)
      return InvalidRequest("model '" + config_.name +
                            "' describes images and answers no question: send `prompt` (the "
                            "caption's start), or use a VQA model");
    text = Trimmed(prompt.value_or(""));
  }
  if (text.size() > options_.max_prompt_bytes) {
    return InvalidRequest("the prompt or question is " + std::to_string(text.size()) +
                          " bytes; model '" + config_.name + "' takes at most " +
                          std::to_string(options_.max_prompt_bytes));
  }
  auto ids = Tokenize(text, generation->max_new_tokens);
  if (!ids.ok()) return ids.status();
  auto pix = images_.Decode(inputs.at(caption_io::kImage).data);
  if (!pix.ok()) return pix.status();
  auto image_states = EncodeImage(pix->get());
  if (!image_states.ok()) return image_states.status();
  auto states = DecoderStates(*image_states, *ids);
  if (!states.ok()) return states.status();
  // A VQA answer starts afresh from the start token.
  const Tokens start = answers_questions() ? Tokens{bos_} : *ids;
  // A caption repeats its prompt, as transformers' decode of the whole sequence does.
  const Tokens shown(start.begin() + 1, start.end());
  Tokens so_far = shown;
  TextStream stream;
  const auto on_token = [&](int64_t token) {
    so_far.push_back(token);
    const std::string piece = stream.Next(tokenizer_->Decode(so_far, /*skip_special=*/true));
    if (!piece.empty()) partial({{caption_io::kText, {protocol::DType::kString, {}, piece}}});
  };
  ScriptDecoder decoder(decoder_, *states, device_);
  auto generated =
      TokenGenerator(*generation)
          .Generate(decoder, start, partial ? TokenGenerator::OnToken(on_token) : nullptr);
  if (!generated.ok()) return generated.status();
  Tokens all = shown;
  all.insert(all.end(), generated->tokens.begin(), generated->tokens.end());
  auto result = std::make_shared<CaptionResult>();
  result->text = Trimmed(ValidUtf8(tokenizer_->Decode(all, /*skip_special=*/true)));
  result->confidence = ValueWriter().Double(std::exp(generated->mean_log_prob)).Take();
  ValueWriter tokens;
  tokens.Array(generated->tokens.size());
  for (int64_t t : generated->tokens) tokens.Int(t);
  result->tokens = tokens.Take();
  result->image = ImageDecoder::Describe(pix->get());
  ModelOutputs out;
  out.views[caption_io::kText] = {protocol::DType::kString, {}, result->text};
  out.views[caption_io::kConfidence] = {protocol::DType::kValue, {}, result->confidence};
  out.views[caption_io::kTokens] = {protocol::DType::kValue, {}, result->tokens};
  out.views[caption_io::kImage] = {protocol::DType::kValue, {}, result->image};
  out.owner = std::move(result);
  return out;
}

std::string CaptionBackend::Describe() const {
  return std::string(answers_questions() ? "visual question answering" : "captioning") + ", " +
         options_.tokenizer + " tokenizer, " + std::to_string(at::get_num_threads()) +
         " intra-op threads";
}

}  // namespace botmodels
