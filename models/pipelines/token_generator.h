#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "common/status.h"

namespace botmodels {

using Tokens = std::vector<int64_t>;

// The model side of autoregressive decoding: a decoder that scores the next
// token of each sequence of a batch. TokenGenerator calls it once per step;
// a decoder with a KV cache keeps one per row and follows Reorder().
class TokenDecoder {
 public:
  virtual ~TokenDecoder() = default;

  // Logits over the vocabulary for the next token of each sequence (every
  // one the prompt plus what has been chosen so far; all of one length).
  // Returns one row per sequence, each of the vocabulary's size; an error
  // (a failed forward) ends the generation with it.
  virtual Result<std::vector<std::vector<float>>> NextLogits(
      const std::vector<Tokens>& sequences) = 0;

  // Row i of the next step continues row `sources[i]` of the last one (beam
  // search keeps, drops and duplicates rows). A decoder with a cache
  // reorders it; the default has nothing to do.
  virtual void Reorder(const std::vector<int>& sources) { (void)sources; }
};

// A rule on the next token beyond suppression and the repetition penalty
// (Whisper's timestamp rules): it sets to -inf the scores of the tokens it
// forbids after `generated` (the tokens chosen so far, the prompt
// excluded). The scores are logits in greedy decoding and sampling,
// log-probabilities in beam search: a rule must hold for either (compare
// them only with each other, as log-softmax leaves their differences).
class ScoreRule {
 public:
  virtual ~ScoreRule() = default;
  virtual void Apply(std::vector<float>& scores, std::span<const int64_t> generated) const = 0;
  virtual void Apply(std::vector<double>& scores, std::span<const int64_t> generated) const = 0;
};

struct GenerationOptions {
  int max_new_tokens = 128;          // tokens generated after the prompt, at most
  int beams = 1;                     // 1: greedy; more: beam search
  std::vector<int64_t> stop_tokens;  // end a sequence (end of text); kept in the result
  // > 1 discourages tokens already in the sequence (prompt included), as
  // transformers' RepetitionPenaltyLogitsProcessor: a positive score is
  // divided by it, a negative one multiplied.
  double repetition_penalty = 1.0;
  std::vector<int64_t> suppress_tokens;        // never chosen (Whisper's non-speech symbols)
  std::vector<int64_t> begin_suppress_tokens;  // never chosen first (a space, the end of text)
  // Beam scores are sum(log p) / length^length_penalty (length counts the
  // prompt), as transformers' beam search.
  double length_penalty = 1.0;
  const ScoreRule* rule = nullptr;  // applied last, when set; not owned
  // > 0: each token is sampled from softmax(logits / temperature) (beams
  // unused), with a generator seeded by `seed`: the same seed, the same tokens.
  double temperature = 0;
  uint64_t seed = 0;
};

// What generation produced: the new tokens (the prompt not included) and
// their summed and mean log-probability (Whisper's confidence).
struct Generated {
  Tokens tokens;
  double sum_log_prob = 0;
  double mean_log_prob = 0;
  bool stopped = false;  // ended on a stop token, not at max_new_tokens
};

// Greedy and beam-search decoding and sampling, independent of the model,
// following transformers' generate(): greedy takes the argmax of the processed logits
// (suppressed tokens out, repetition penalized); beam search processes the
// log-softmax of the logits, as transformers does, and keeps the `beams` best of 2 × beams
// candidates per step, sets aside hypotheses that end on a stop token, and
// ends when no running beam can beat the worst of `beams` finished ones (or
// at max_new_tokens, when the running beams count as finished). Not
// thread-safe: one generation at a time per decoder.
class TokenGenerator {
 public:
  // Called with each token as greedy decoding chooses it (not for beam
  // search, whose tokens are known only at the end), to stream partial text.
  using OnToken = std::function<void(int64_t token)>;

  explicit TokenGenerator(GenerationOptions options);

  // invalid_request for a bad option or an empty prompt; the decoder's
  // error as is.
  Result<Generated> Generate(TokenDecoder& decoder, const Tokens& prompt,
                             const OnToken& on_token = nullptr) const;

 private:
  // Greedy decoding, or sampling when options_.temperature > 0.
  Result<Generated> Greedy(TokenDecoder& decoder, const Tokens& prompt,
                           const OnToken& on_token) const;
  Result<Generated> Beam(TokenDecoder& decoder, const Tokens& prompt) const;
  // The scores of the next token after `sequence` (`step` tokens generated
  // so far): processed logits, then their log-softmax for greedy decoding;
  // the processed log-softmax for beam search.
  std::vector<double> Scores(std::vector<float> logits, const Tokens& sequence, int step,
                             bool beam) const;
  // Suppression and the repetition penalty, in place.
  template <typename T>
  void Process(std::vector<T>& scores, const Tokens& sequence, int step) const;
  bool IsStop(int64_t token) const;

  GenerationOptions options_;
};

}  // namespace botmodels
