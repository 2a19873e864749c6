#include "models/pipelines/token_generator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <unordered_set>

namespace botmodels {
namespace {

constexpr int kMaxBeams = 64;            // past this a step's batch is all cost, no gain
constexpr double kMaxTemperature = 2.0;  // OpenAI's bound: past it, tokens are noise

// A finished beam-search hypothesis: its tokens (prompt and stop token
// excluded), its summed log-probability, and its length-normalized score.
struct Hypothesis {
  Tokens tokens;
  double sum_log_prob = 0;
  double score = 0;
  bool stopped = false;
};

// The best `beams` finished hypotheses (transformers' BeamHypotheses).
class Finished {
 public:
  Finished(int beams, double length_penalty) : beams_(beams), length_penalty_(length_penalty) {}

  double Score(double sum_log_prob, size_t length) const {
    return sum_log_prob /
           std::pow(static_cast<double>(std::max<size_t>(length, 1)), length_penalty_);
  }

  void Add(Hypothesis h) {
    h.score = Score(h.sum_log_prob, h.tokens.size());
    if (static_cast<int>(list_.size()) < beams_ || h.score > Worst()) {
      list_.push_back(std::move(h));
      if (static_cast<int>(list_.size()) > beams_) {
        list_.erase(std::min_element(list_.begin(), list_.end(), ByScore));
      }
    }
  }

  // Whether no running beam can do better: its best sum, at this length.
  bool Done(double best_running_sum, size_t length) const {
    return static_cast<int>(list_.size()) >= beams_ && Worst() >= Score(best_running_sum, length);
  }

  const Hypothesis& Best() const { return *std::max_element(list_.begin(), list_.end(), ByScore); }

 private:
  static bool ByScore(const Hypothesis& a, const Hypothesis& b) { return a.score < b.score; }
  double Worst() const { return std::min_element(list_.begin(), list_.end(), ByScore)->score; }

  int beams_;
  double length_penalty_;
  std::vector<Hypothesis> list_;
};

Generated MakeGenerated(Tokens tokens, double sum_log_prob, bool stopped) {
  Generated g;
  g.sum_log_prob = sum_log_prob;
  // The stop token counts in the mean, as it was chosen like the others.
  const size_t n = tokens.size() + (stopped ? 1 : 0);
  g.mean_log_prob = n > 0 ? sum_log_prob / static_cast<double>(n) : 0;
  g.tokens = std::move(tokens);
  g.stopped = stopped;
  return g;
}

}  // namespace

TokenGenerator::TokenGenerator(GenerationOptions options) : options_(std::move(options)) {}

bool TokenGenerator::IsStop(int64_t token) const {
  return std::find(options_.stop_tokens.begin(), options_.stop_tokens.end(), token) !=
         options_.stop_tokens.end();
}

template <typename T>
void TokenGenerator::Process(std::vector<T>& scores, const Tokens& sequence, int step) const {
  const auto in_range = [&](int64_t t) {
    return t >= 0 && t < static_cast<int64_t>(scores.size());
  };
  if (options_.repetition_penalty != 1.0) {
    const std::unordered_set<int64_t> seen(sequence.begin(), sequence.end());
    for (int64_t t : seen) {
      if (!in_range(t)) continue;
      T& x = scores[t];
      x = x < 0 ? static_cast<T>(x * options_.repetition_penalty)
                : static_cast<T>(x / options_.repetition_penalty);
    }
  }
  const auto suppress = [&](const Tokens& tokens) {
    for (int64_t t : tokens) {
      if (in_range(t)) scores[t] = -std::numeric_limits<T>::infinity();
    }
  };
  suppress(options_.suppress_tokens);
  if (step == 0) suppress(options_.begin_suppress_tokens);
  if (options_.rule != nullptr) {
    options_.rule->Apply(scores,
                         std::span<const int64_t>(sequence).last(static_cast<size_t>(step)));
  }
}

namespace {

// log-softmax, shifted by the maximum so that no exponent overflows.
template <typename T>
std::vector<double> LogSoftmax(const std::vector<T>& x) {
  const double top = *std::max_element(x.begin(), x.end());
  double sum = 0;
  for (T v : x) sum += std::exp(v - top);
  const double log_sum = top + std::log(sum);
  std::vector<double> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = x[i] - log_sum;
  return out;
}

// A token drawn from softmax(log_probs / temperature): log-probabilities
// differ from the processed logits by a constant, which the softmax ignores.
int64_t Sample(const std::vector<double>& log_probs, double temperature, std::mt19937_64& random) {
  const double top = *std::max_element(log_probs.begin(), log_probs.end());
  std::vector<double> weights(log_probs.size());
  for (size_t i = 0; i < weights.size(); ++i)
    weights[i] = std::exp((log_probs[i] - top) / temperature);
  std::discrete_distribution<int64_t> pick(weights.begin(), weights.end());
  return pick(random);
}

}  // namespace

std::vector<double> TokenGenerator::Scores(std::vector<float> logits, const Tokens& sequence,
                                           int step, bool beam) const {
  if (beam) {
    std::vector<double> log_probs = LogSoftmax(logits);
    Process(log_probs, sequence, step);
    return log_probs;
  }
  Process(logits, sequence, step);
  return LogSoftmax(logits);
}

Result<Generated> TokenGenerator::Generate(TokenDecoder& decoder, const Tokens& prompt,
                                           const OnToken& on_token) const {
  if (prompt.empty()) return InvalidRequest("generation needs a prompt (the start tokens)");
  if (options_.max_new_tokens < 1) return InvalidRequest("max_new_tokens must be at least 1");
  if (options_.beams < 1 || options_.beams > kMaxBeams) {
    return InvalidRequest("beams must be 1-" + std::to_string(kMaxBeams));
  }
  if (!(options_.repetition_penalty > 0)) {
    return InvalidRequest("repetition_penalty must be positive");
  }
  if (!(options_.temperature >= 0) || options_.temperature > kMaxTemperature) {
    return InvalidRequest("temperature must be 0-2");
  }
  return options_.beams == 1 || options_.temperature > 0 ? Greedy(decoder, prompt, on_token)
                                                         : Beam(decoder, prompt);
}

Result<Generated> TokenGenerator::Greedy(TokenDecoder& decoder, const Tokens& prompt,
                                         const OnToken& on_token) const {
  Tokens sequence = prompt;
  double sum = 0;
  std::mt19937_64 random(options_.seed);
  for (int step = 0; step < options_.max_new_tokens; ++step) {
    auto logits = decoder.NextLogits({sequence});
    if (!logits.ok()) return logits.status();
    if (logits->size() != 1 || logits->front().empty()) {
      return Status(ErrorCode::kInternal, "the decoder returned no logits");
    }
    const std::vector<double> log_probs =
        Scores(std::move(logits->front()), sequence, step, /*beam=*/false);
    const int64_t token =
        options_.temperature > 0
            ? Sample(log_probs, options_.temperature, random)
            : std::max_element(log_probs.begin(), log_probs.end()) - log_probs.begin();
    sum += log_probs[static_cast<size_t>(token)];
    if (IsStop(token))
      return MakeGenerated(Tokens(sequence.begin() + prompt.size(), sequence.end()), sum, true);
    sequence.push_back(token);
    if (on_token) on_token(token);
  }
  return MakeGenerated(Tokens(sequence.begin() + prompt.size(), sequence.end()), sum, false);
}

Result<Generated> TokenGenerator::Beam(TokenDecoder& decoder, const Tokens& prompt) const {
  const int beams = options_.beams;
  std::vector<Tokens> sequences(beams, prompt);
  // Only the first beam is live at the start: the others would repeat it.
  std::vector<double> scores(beams, -std::numeric_limits<double>::infinity());
  scores[0] = 0;
  Finished finished(beams, options_.length_penalty);
  for (int step = 0; step < options_.max_new_tokens; ++step) {
    auto logits = decoder.NextLogits(sequences);
    if (!logits.ok()) return logits.status();
    if (static_cast<int>(logits->size()) != beams) {
      return Status(ErrorCode::kInternal,
                    "the decoder returned a row count that is not the beams'");
    }
    struct Candidate {
      double score;
      int beam;
      int64_t token;
    };
    std::vector<Candidate> candidates;
    for (int b = 0; b < beams; ++b) {
      if ((*logits)[b].empty())
        return Status(ErrorCode::kInternal, "the decoder returned no logits");
      const std::vector<double> log_probs =
          Scores(std::move((*logits)[b]), sequences[b], step, /*beam=*/true);
      for (size_t t = 0; t < log_probs.size(); ++t) {
        candidates.push_back({scores[b] + log_probs[t], b, static_cast<int64_t>(t)});
      }
    }
    // The 2 × beams best: enough that `beams` survive however many stop here.
    const size_t keep = std::min(candidates.size(), static_cast<size_t>(2 * beams));
    std::partial_sort(candidates.begin(), candidates.begin() + keep, candidates.end(),
                      [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
    std::vector<Tokens> next;
    std::vector<double> next_scores;
    std::vector<int> sources;
    for (size_t rank = 0; rank < keep && static_cast<int>(next.size()) < beams; ++rank) {
      const Candidate& c = candidates[rank];
      if (IsStop(c.token)) {
        // A stop ranked past the beams' count is not among the best: dropped.
        if (static_cast<int>(rank) < beams) {
          finished.Add({Tokens(sequences[c.beam].begin() + prompt.size(), sequences[c.beam].end()),
                        c.score, 0, true});
        }
        continue;
      }
      Tokens s = sequences[c.beam];
      s.push_back(c.token);
      next.push_back(std::move(s));
      next_scores.push_back(c.score);
      sources.push_back(c.beam);
    }
    const size_t generated = sequences[0].size() - prompt.size() + 1;
    if (static_cast<int>(next.size()) < beams) {  // a vocabulary too small to fill the beams
      for (size_t i = 0; i < next.size(); ++i) {
        finished.Add(
            {Tokens(next[i].begin() + prompt.size(), next[i].end()), next_scores[i], 0, false});
      }
      const Hypothesis& best = finished.Best();
      return MakeGenerated(best.tokens, best.sum_log_prob, best.stopped);
    }
    if (finished.Done(candidates[0].score, generated)) {
      const Hypothesis& best = finished.Best();
      return MakeGenerated(best.tokens, best.sum_log_prob, best.stopped);
    }
    decoder.Reorder(sources);
    sequences = std::move(next);
    scores = std::move(next_scores);
  }
  for (int b = 0; b < beams; ++b) {  // out of tokens: the running beams count as finished
    finished.Add(
        {Tokens(sequences[b].begin() + prompt.size(), sequences[b].end()), scores[b], 0, false});
  }
  const Hypothesis& best = finished.Best();
  return MakeGenerated(best.tokens, best.sum_log_prob, best.stopped);
}

}  // namespace botmodels
