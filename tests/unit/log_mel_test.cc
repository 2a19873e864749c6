// Whisper's front end against reference numbers computed once from the
// published algorithms (tools/reference/whisper_mel.py: librosa's mel filter
// bank and Whisper's log_mel_spectrogram, reimplemented in numpy, float64).
#include "models/pipelines/log_mel.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <numbers>

#include "models/pipelines/mel_filters.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

using nlohmann::json;

const json& Reference() {
  static const json reference =
      json::parse(testing::ReadFile(BOTMODELS_SOURCE_DIR "/tests/fixtures/whisper_mel.json"));
  return reference;
}

// The reference script's test signal: one second of two tones, a chirp and a click.
std::vector<float> TestSignal() {
  std::vector<float> x(LogMel::kSampleRate);
  for (size_t n = 0; n < x.size(); ++n) {
    const double t = static_cast<double>(n) / LogMel::kSampleRate;
    const double two_pi = 2 * std::numbers::pi;
    x[n] =
        static_cast<float>(0.5 * std::sin(two_pi * 440 * t) + 0.25 * std::sin(two_pi * 3000 * t) +
                           0.1 * std::sin(two_pi * (200 * t + 2000 * t * t)));
  }
  x[8000] += 0.9f;
  return x;
}

TEST(MelFilters, EqualLibrosasSlaneyFiltersFor80And128Bins) {
  for (const int n_mels : {80, 128}) {
    const json& ref = Reference()["filters_" + std::to_string(n_mels)];
    const std::vector<float> f = MelFilters(LogMel::kSampleRate, LogMel::kFftSize, n_mels);
    constexpr int kBins = LogMel::kFftSize / 2 + 1;
    ASSERT_EQ(f.size(), static_cast<size_t>(n_mels) * kBins);
    int nonzero = 0;
    for (int m = 0; m < n_mels; ++m) {
      double sum = 0;
      int argmax = 0;
      for (int k = 0; k < kBins; ++k) {
        const float w = f[m * kBins + k];
        sum += w;
        nonzero += w > 0;
        if (w > f[m * kBins + argmax]) argmax = k;
      }
      EXPECT_NEAR(sum, ref["row_sums"][m].get<double>(), 1e-6) << n_mels << " mels, row " << m;
      EXPECT_NEAR(f[m * kBins + argmax], ref["row_max"][m].get<double>(), 1e-7) << m;
      EXPECT_EQ(argmax, ref["row_argmax"][m].get<int>()) << n_mels << " mels, row " << m;
    }
    EXPECT_EQ(nonzero, ref["nonzero"].get<int>()) << n_mels;
  }
}

TEST(LogMel, EqualsWhispersLogMelSpectrogramOfATestSignal) {
  const json& ref = Reference()["log_mel_80"];
  const torch::Tensor spec = LogMel(80).Compute(TestSignal());
  ASSERT_EQ(spec.dim(), 2);
  ASSERT_EQ(spec.size(0), 80);
  ASSERT_EQ(spec.size(1), ref["frames"].get<int64_t>());
  // float32 here, float64 there: agreement to 1e-3 in (log10 + 4) / 4 units,
  // a fraction of a percent of the power.
  constexpr double kTolerance = 1e-3;
  EXPECT_NEAR(spec.max().item<double>(), ref["max"].get<double>(), kTolerance);
  EXPECT_NEAR(spec.min().item<double>(), ref["min"].get<double>(), kTolerance);
  const torch::Tensor row_means = spec.mean(1), frame_means = spec.mean(0);
  for (int m = 0; m < 80; ++m) {
    EXPECT_NEAR(row_means[m].item<double>(), ref["row_means"][m].get<double>(), kTolerance) << m;
  }
  for (int t = 0; t < spec.size(1); ++t) {
    EXPECT_NEAR(frame_means[t].item<double>(), ref["frame_means"][t].get<double>(), kTolerance)
        << t;
  }
  for (const json& cell : ref["cells"]) {
    const int m = cell[0], t = cell[1];
    EXPECT_NEAR(spec[m][t].item<double>(), cell[2].get<double>(), kTolerance) << m << ", " << t;
  }
}

TEST(LogMel, SilenceIsTheFloorAndThirtySecondsAreThreeThousandFrames) {
  const json& ref = Reference()["log_mel_80_silence"];
  const torch::Tensor silence = LogMel(80).Compute(std::vector<float>(LogMel::kSampleRate / 10));
  EXPECT_EQ(silence.size(1), ref["frames"].get<int64_t>());
  EXPECT_EQ(silence.max().item<float>(), ref["value"].get<float>());
  EXPECT_EQ(silence.min().item<float>(), ref["value"].get<float>());

  const auto window = LogMel::PadOrTrim(TestSignal(), LogMel::kWindowSamples);
  ASSERT_EQ(window.size(), static_cast<size_t>(LogMel::kWindowSamples));
  EXPECT_EQ(window.back(), 0.0f);
  const torch::Tensor spec = LogMel(128).Compute(window);
  EXPECT_EQ(spec.size(0), 128);
  EXPECT_EQ(spec.size(1), LogMel::kWindowFrames);
  EXPECT_EQ(LogMel::PadOrTrim(TestSignal(), 100).size(), 100u);
}

}  // namespace
}  // namespace botmodels
