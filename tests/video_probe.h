#pragma once

// Reads an MP4 back with FFmpeg's demuxer and decoder, for the tests of
// generated video: what a player would see.

#include <string>

#include "common/status.h"

namespace botmodels::testing {

struct VideoInfo {
  std::string codec;  // "h264"
  int width = 0, height = 0;
  int frames = 0;            // decoded, not as the header claims
  double fps = 0;            // the stream's average frame rate
  std::string comment;       // the file's "comment" tag
  bool index_first = false;  // the moov box comes before the mdat box
};

// Errors: internal when FFmpeg cannot open or decode the bytes.
Result<VideoInfo> ProbeVideo(const std::string& mp4);

}  // namespace botmodels::testing
