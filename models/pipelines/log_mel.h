#pragma once

#include <torch/torch.h>

#include <vector>

namespace botmodels {

// Whisper's audio front end (whisper/audio.py): 16 kHz mono samples in, the
// log-mel spectrogram the encoder reads out. Thread-safe once constructed.
class LogMel {
 public:
  static constexpr int kSampleRate = 16000;                    // Hz: what every Whisper model hears
  static constexpr int kFftSize = 400;                         // 25 ms windows
  static constexpr int kHop = 160;                             // 10 ms: 100 frames a second
  static constexpr int kWindowSamples = 30 * kSampleRate;      // the encoder's 30 s
  static constexpr int kWindowFrames = kWindowSamples / kHop;  // 3000

  // `n_mels`: 80 (most Whisper models) or 128 (large-v3).
  explicit LogMel(int n_mels);

  // [n_mels, samples / 160] float32 on the CPU: a periodic Hann window,
  // centered STFT with reflect padding, the last frame dropped, power
  // spectrum through the mel filters, log10 floored at 1e-10, clamped to its
  // maximum - 8, then (x + 4) / 4. `samples` must hold at least 201 samples
  // (reflect padding needs them); callers pad to 30 s first (PadOrTrim).
  torch::Tensor Compute(const std::vector<float>& samples) const;

  // `samples` cut or zero-padded to `length`, as whisper.pad_or_trim.
  static std::vector<float> PadOrTrim(std::vector<float> samples, size_t length);

  const torch::Tensor& filters() const { return filters_; }

 private:
  torch::Tensor filters_;  // [n_mels, 201]
  torch::Tensor window_;   // [400]
};

}  // namespace botmodels
