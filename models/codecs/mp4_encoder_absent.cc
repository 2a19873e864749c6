// EncodeMp4 in a build without FFmpeg (BOTMODELS_VIDEO=OFF): the GPU
// check's build, whose carried libraries cannot hold FFmpeg's.
#include "models/codecs/mp4_encoder.h"

namespace botmodels {

Result<std::string> EncodeMp4(const uint8_t*, int, int, int, const Mp4Options&) {
  return Status(ErrorCode::kUnavailable,
                "this build has no MP4 encoder (built with BOTMODELS_VIDEO=OFF, without FFmpeg)");
}

bool Mp4EncoderBuiltIn() { return false; }

}  // namespace botmodels
