#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace botmodels {

// How EncodeMp4 writes a video.
struct Mp4Options {
  int fps = 8;   // frames per second, 1-240
  int crf = 23;  // H.264 constant rate factor: 0 lossless ... 51 worst; 23 is x264's default
  // Tags in the file's metadata ("comment": the generation parameters).
  std::vector<std::pair<std::string, std::string>> metadata;
};

// Encodes `frames` 8-bit RGB frames (each `height` rows of `width * 3`
// bytes, one after another in `rgb`) as H.264 (libx264, yuv420p) in an
// MP4 whose index comes first (it plays while it downloads),
// all in memory through FFmpeg's libraries. width and height must be even
// (4:2:0). Errors: invalid_request for a bad size or count; internal when
// FFmpeg has no H.264 encoder or fails.
Result<std::string> EncodeMp4(const uint8_t* rgb, int frames, int width, int height,
                              const Mp4Options& options);

// Whether this build has the encoder: false in a build without FFmpeg
// (BOTMODELS_VIDEO=OFF, mp4_encoder_absent.cc), where EncodeMp4 answers
// unavailable and video models refuse to load.
bool Mp4EncoderBuiltIn();

}  // namespace botmodels
