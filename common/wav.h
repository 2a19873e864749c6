#pragma once

#include <cstdint>
#include <string>

namespace botmodels {

// The 44-byte header of a RIFF/WAVE file of 16-bit little-endian mono PCM
// holding `data_bytes` bytes of samples. Speech backends send WAV; the CLI
// writes one before streamed chunks and rewrites it with the final size.
std::string WavHeader(int sample_rate, uint32_t data_bytes);

}  // namespace botmodels
