#pragma once

#include <vector>

namespace botmodels {

// A mel filter bank as librosa.filters.mel(sr, n_fft, n_mels) makes it with
// its defaults (fmin 0, fmax sr / 2, Slaney's mel scale, "slaney" area
// normalization): what Whisper's assets/mel_filters.npz holds for 80 and 128
// bins. Row-major [n_mels, n_fft / 2 + 1] float32; computed in double and
// rounded once, as librosa does. Pure and thread-safe.
std::vector<float> MelFilters(int sample_rate, int n_fft, int n_mels);

}  // namespace botmodels
