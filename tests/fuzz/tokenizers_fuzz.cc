// The tokenizers and the text stream on any bytes a client sends as a
// prompt or a question, with the real vocabularies of tests/fixtures:
// nothing crashes (CLIP's style too: lowercasing, whitespace clean-up,
// word ends), byte-level BPE round-trips every byte, and what the stream
// and ValidUtf8 give out is valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "models/pipelines/bpe_tokenizer.h"
#include "models/pipelines/text_stream.h"
#include "models/pipelines/wordpiece_tokenizer.h"

namespace {

const botmodels::BpeTokenizer& Gpt2() {
  static const auto t =
      botmodels::BpeTokenizer::Load(BOTMODELS_SOURCE_DIR "/tests/fixtures/gpt2/encoder.json",
                                    BOTMODELS_SOURCE_DIR "/tests/fixtures/gpt2/vocab.bpe");
  if (!t.ok()) __builtin_trap();
  return *t;
}

// CLIP's style over GPT-2's files: no "</w>" symbols, so every word end
// takes the fallback path.
const botmodels::BpeTokenizer& Clip() {
  static const auto t = botmodels::BpeTokenizer::Load(
      BOTMODELS_SOURCE_DIR "/tests/fixtures/gpt2/encoder.json",
      BOTMODELS_SOURCE_DIR "/tests/fixtures/gpt2/vocab.bpe", botmodels::BpeTokenizer::Style::kClip);
  if (!t.ok()) __builtin_trap();
  return *t;
}

const botmodels::WordPieceTokenizer& Bert() {
  static const auto t = botmodels::WordPieceTokenizer::Load(
      BOTMODELS_SOURCE_DIR "/tests/fixtures/bert/vocab.txt", /*lowercase=*/true);
  if (!t.ok()) __builtin_trap();
  return *t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace botmodels;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (Gpt2().Decode(Gpt2().Encode(bytes)) != bytes) __builtin_trap();
  (void)Bert().Decode(Bert().Encode(bytes));
  (void)Clip().Decode(Clip().Encode(bytes));
  const std::string valid = ValidUtf8(bytes);
  if (ValidUtf8(valid) != valid) __builtin_trap();  // valid text is left as it is
  TextStream stream;
  std::string streamed;
  for (size_t end = 0; end <= bytes.size(); end += 7) streamed += stream.Next(bytes.substr(0, end));
  if (ValidUtf8(streamed) != streamed) __builtin_trap();
  return 0;
}
