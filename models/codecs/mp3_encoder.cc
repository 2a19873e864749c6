#include "models/codecs/mp3_encoder.h"

#include <lame/lame.h>

namespace botmodels {
namespace {

constexpr int kMinRate = 8000, kMaxRate = 48000;  // Hz: MPEG-2.5 up to MPEG-1
constexpr int kFlushBytes = 7200;                 // LAME's bound on what a flush writes

}  // namespace

Result<Mp3Encoder> Mp3Encoder::Create(int sample_rate, int kbps) {
  if (sample_rate < kMinRate || sample_rate > kMaxRate) {
    return InvalidRequest("MP3 carries 8-48 kHz audio, not " + std::to_string(sample_rate) + " Hz");
  }
  lame_global_flags* lame = lame_init();
  if (!lame) return Status(ErrorCode::kInternal, "LAME did not start");
  lame_set_in_samplerate(lame, sample_rate);
  lame_set_out_samplerate(lame, sample_rate);
  lame_set_num_channels(lame, 1);
  lame_set_mode(lame, MONO);
  lame_set_brate(lame, kbps);
  lame_set_quality(lame, 5);       // LAME's default trade of speed for quality
  lame_set_bWriteVbrTag(lame, 0);  // no Xing frame: a stream's length is not known up front
  if (lame_init_params(lame) < 0) {
    lame_close(lame);
    return Status(ErrorCode::kInternal, "LAME refused its parameters");
  }
  return Mp3Encoder(lame);
}

Mp3Encoder::Mp3Encoder(Mp3Encoder&& other) noexcept : lame_(other.lame_) { other.lame_ = nullptr; }

Mp3Encoder::~Mp3Encoder() {
  if (lame_) lame_close(lame_);
}

std::string Mp3Encoder::Encode(std::span<const int16_t> samples) {
  // LAME's bound: 1.25 x the samples, plus 7200 bytes.
  std::string out(samples.size() * 5 / 4 + kFlushBytes, '\0');
  // lame_encode_buffer reads mono from its left channel; it does not write the samples.
  const int n = lame_encode_buffer(
      lame_, const_cast<short*>(samples.data()), nullptr, static_cast<int>(samples.size()),
      reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

std::string Mp3Encoder::Finish() {
  std::string out(kFlushBytes, '\0');
  const int n = lame_encode_flush(lame_, reinterpret_cast<unsigned char*>(out.data()),
                                  static_cast<int>(out.size()));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

}  // namespace botmodels
