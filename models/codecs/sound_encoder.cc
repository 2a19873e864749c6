#include "models/codecs/sound_encoder.h"

#include <sndfile.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace botmodels {
namespace {

// libsndfile writes into a string through these (FLAC seeks back to finish
// its header).
struct Sink {
  std::string bytes;
  sf_count_t at = 0;
};
sf_count_t SinkLength(void* u) {
  return static_cast<sf_count_t>(static_cast<Sink*>(u)->bytes.size());
}
sf_count_t SinkSeek(sf_count_t offset, int whence, void* u) {
  auto* s = static_cast<Sink*>(u);
  s->at = whence == SEEK_SET   ? offset
          : whence == SEEK_CUR ? s->at + offset
                               : static_cast<sf_count_t>(s->bytes.size()) + offset;
  return s->at;
}
sf_count_t SinkRead(void* out, sf_count_t n, void* u) {
  auto* s = static_cast<Sink*>(u);
  const sf_count_t take =
      std::clamp<sf_count_t>(static_cast<sf_count_t>(s->bytes.size()) - s->at, 0, n);
  std::memcpy(out, s->bytes.data() + s->at, static_cast<size_t>(take));
  s->at += take;
  return take;
}
sf_count_t SinkWrite(const void* data, sf_count_t n, void* u) {
  auto* s = static_cast<Sink*>(u);
  if (s->bytes.size() < static_cast<size_t>(s->at + n)) {
    s->bytes.resize(static_cast<size_t>(s->at + n));
  }
  std::memcpy(s->bytes.data() + s->at, data, static_cast<size_t>(n));
  s->at += n;
  return n;
}
sf_count_t SinkTell(void* u) { return static_cast<Sink*>(u)->at; }

}  // namespace

Result<std::string> EncodeSound(std::span<const int16_t> samples, int rate, int channels,
                                int sndfile_format) {
  Sink sink;
  SF_VIRTUAL_IO io{SinkLength, SinkSeek, SinkRead, SinkWrite, SinkTell};
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = sndfile_format;
  SNDFILE* f = sf_open_virtual(&io, SFM_WRITE, &info, &sink);
  if (!f) {
    return Status(ErrorCode::kInternal,
                  std::string("audio: libsndfile cannot write it: ") + sf_strerror(nullptr));
  }
  // Floats in [-1, 1): what every format takes once normalised.
  std::vector<float> frames(samples.size());
  std::transform(samples.begin(), samples.end(), frames.begin(),
                 [](int16_t s) { return static_cast<float>(s) / 32768.0f; });
  sf_writef_float(f, frames.data(), static_cast<sf_count_t>(samples.size()) / channels);
  sf_close(f);
  return std::move(sink.bytes);
}

}  // namespace botmodels
