#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/status.h"

namespace botmodels {

// A whole sound encoded in memory by libsndfile: `samples` (16-bit, mono,
// or interleaved `channels`) at `rate`, as `sndfile_format` (SF_FORMAT_*
// major | subtype, <sndfile.h>): FLAC, Ogg/Opus (8, 12, 16, 24 or 48 kHz),
// WAV... internal naming libsndfile's complaint when it cannot. Thread-safe.
Result<std::string> EncodeSound(std::span<const int16_t> samples, int rate, int channels,
                                int sndfile_format);

}  // namespace botmodels
