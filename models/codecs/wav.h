#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace botmodels {

// The 44-byte header of a RIFF/WAVE file of 16-bit little-endian mono PCM
// holding `data_bytes` bytes of samples. Speech backends send WAV; the CLI
// writes one before streamed chunks and rewrites it with the final size.
std::string WavHeader(int sample_rate, uint32_t data_bytes);

// The samples of a RIFF/WAVE file of 16-bit PCM (interleaved when it has
// several channels), found by walking its chunks to "fmt " and "data"; its
// rate in *sample_rate. A data size past the end (a stream's placeholder)
// reads to the end. Empty, *sample_rate untouched, for anything else.
std::vector<int16_t> ReadWavSamples(std::string_view wav, int* sample_rate);

}  // namespace botmodels
