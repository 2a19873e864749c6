#include "models/pipelines/whisper_timestamps.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace botmodels {

WhisperTimestamps::WhisperTimestamps(const WhisperTokens& tokens) : tokens_(tokens) {}

void WhisperTimestamps::Apply(std::vector<float>& scores,
                              std::span<const int64_t> generated) const {
  ApplyTo(scores, generated);
}

void WhisperTimestamps::Apply(std::vector<double>& scores,
                              std::span<const int64_t> generated) const {
  ApplyTo(scores, generated);
}

template <typename T>
void WhisperTimestamps::ApplyTo(std::vector<T>& scores, std::span<const int64_t> generated) const {
  constexpr T kNever = -std::numeric_limits<T>::infinity();
  const auto size = static_cast<int64_t>(scores.size());
  const int64_t begin = std::min(tokens_.timestamp_begin, size);
  const auto forbid = [&](int64_t from, int64_t to) {
    std::fill(scores.begin() + std::clamp<int64_t>(from, 0, size),
              scores.begin() + std::clamp<int64_t>(to, 0, size), kNever);
  };
  const size_t n = generated.size();
  const bool last = n >= 1 && tokens_.IsTimestamp(generated[n - 1]);
  const bool penultimate = n < 2 || tokens_.IsTimestamp(generated[n - 2]);
  if (last) {
    if (penultimate) {
      forbid(begin, size);  // a pair: text next
    } else {
      forbid(0, tokens_.end);  // a lone timestamp: another, or the end
    }
  }
  for (size_t i = n; i-- > 0;) {  // never back, and no empty segment
    if (!tokens_.IsTimestamp(generated[i])) continue;
    forbid(begin, generated[i] + (last && !penultimate ? 0 : 1));
    break;
  }
  if (n == 0) {  // a timestamp first, at most 1 s in
    forbid(0, begin);
    forbid(begin + kMaxInitialTimestamp + 1, size);
  }
  // The timestamps' total probability against the likeliest text token's.
  const T top = *std::max_element(scores.begin(), scores.end());
  if (!std::isfinite(static_cast<double>(top)) || begin <= 0 || begin >= size) return;
  double timestamps = 0;
  for (int64_t t = begin; t < size; ++t)
    timestamps += std::exp(static_cast<double>(scores[t] - top));
  const T text = *std::max_element(scores.begin(), scores.begin() + begin);
  if (timestamps > 0 && std::log(timestamps) > static_cast<double>(text - top)) forbid(0, begin);
}

WhisperTimestamps::Cut WhisperTimestamps::Segments(const Tokens& generated, double window_s) const {
  Cut cut;
  cut.advance_s = window_s;
  const size_t n = generated.size();
  const auto is_time = [&](size_t i) { return tokens_.IsTimestamp(generated[i]); };
  std::vector<size_t> slices;  // where a pair's second timestamp starts a segment
  for (size_t i = 1; i < n; ++i) {
    if (is_time(i - 1) && is_time(i)) slices.push_back(i);
  }
  const bool single_ending = n >= 2 && !is_time(n - 2) && is_time(n - 1);
  const auto segment = [&](size_t from, size_t to, double start, double end) {
    Segment s{start, std::max(start, end), {}};
    s.tokens.assign(generated.begin() + static_cast<ptrdiff_t>(from),
                    generated.begin() + static_cast<ptrdiff_t>(to));
    cut.segments.push_back(std::move(s));
  };
  if (slices.empty()) {
    double end = window_s;
    for (size_t i = n; i-- > 0;) {
      if (!is_time(i)) continue;
      if (generated[i] != tokens_.timestamp_begin) end = tokens_.Seconds(generated[i]);
      break;
    }
    segment(0, n, 0, std::min(end, window_s));
    return cut;
  }
  if (single_ending) slices.push_back(n);
  size_t last = 0;
  for (size_t current : slices) {
    const double start = is_time(last) ? tokens_.Seconds(generated[last]) : 0;
    const double end = is_time(current - 1) ? tokens_.Seconds(generated[current - 1]) : window_s;
    segment(last, current, std::min(start, window_s), std::min(end, window_s));
    last = current;
  }
  if (!single_ending) cut.advance_s = std::min(tokens_.Seconds(generated[last - 1]), window_s);
  return cut;
}

}  // namespace botmodels
