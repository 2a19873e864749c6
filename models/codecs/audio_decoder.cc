#include "models/codecs/audio_decoder.h"

#include <samplerate.h>
#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

namespace botmodels {
namespace {

// libsndfile reads from memory through these callbacks.
struct Source {
  std::string_view bytes;
  sf_count_t at = 0;
};

sf_count_t Length(void* user) { return static_cast<Source*>(user)->bytes.size(); }

sf_count_t Seek(sf_count_t offset, int whence, void* user) {
  auto* s = static_cast<Source*>(user);
  const auto size = static_cast<sf_count_t>(s->bytes.size());
  sf_count_t to = whence == SEEK_SET ? offset : whence == SEEK_CUR ? s->at + offset : size + offset;
  s->at = std::clamp<sf_count_t>(to, 0, size);
  return s->at;
}

sf_count_t Read(void* out, sf_count_t n, void* user) {
  auto* s = static_cast<Source*>(user);
  const sf_count_t left = static_cast<sf_count_t>(s->bytes.size()) - s->at;
  const sf_count_t take = std::clamp<sf_count_t>(n, 0, left);
  std::memcpy(out, s->bytes.data() + s->at, static_cast<size_t>(take));
  s->at += take;
  return take;
}

sf_count_t Write(const void*, sf_count_t, void*) { return 0; }
sf_count_t Tell(void* user) { return static_cast<Source*>(user)->at; }

struct SndfileCloser {
  void operator()(SNDFILE* f) const { sf_close(f); }
};

// A RIFF (WAV) file states its own length: fewer bytes than that is a cut
// file, which libsndfile would read to the cut without a word. 0 and
// 0xFFFFFFFF mean "unknown" (a WAV written as a stream).
std::optional<std::string> RiffTruncation(std::string_view bytes) {
  if (bytes.size() < 8 || bytes.substr(0, 4) != "RIFF") return std::nullopt;
  uint32_t size = 0;
  for (int i = 3; i >= 0; --i) size = size << 8 | static_cast<uint8_t>(bytes[4 + i]);
  if (size == 0 || size == UINT32_MAX || uint64_t{size} + 8 <= bytes.size()) return std::nullopt;
  return "audio: truncated: the WAV header says " + std::to_string(uint64_t{size} + 8) +
         " bytes, " + std::to_string(bytes.size()) + " are present";
}

// What a recording of speech can be; past these a header lies (or the audio
// is no voice note), and the request is refused, naming the field.
constexpr int kMaxChannels = 8;           // 7.1 surround
constexpr int kMinRate = 8000;            // Hz: telephone audio, the lowest speech is sent at
constexpr int kMaxRate = 384000;          // Hz: the highest rate any recorder writes
constexpr sf_count_t kReadFrames = 4096;  // frames per read: bounded scratch memory

uint32_t Little(std::string_view bytes, size_t at, int width) {
  uint32_t value = 0;
  for (int i = width - 1; i >= 0; --i) value = value << 8 | static_cast<uint8_t>(bytes[at + i]);
  return value;
}

// A WAV whose "fmt " chunk contradicts itself: for uncompressed audio
// (PCM, float, extensible) a frame is channels x bytes per sample, and a
// second is rate x frame. libsndfile believes some fields and not others,
// and would decode such a file into noise or nothing.
std::optional<std::string> WavFormatContradiction(std::string_view bytes) {
  constexpr size_t kRiffHeader = 12, kChunkHeader = 8, kFmtBytes = 16;
  constexpr uint32_t kPcm = 1, kFloat = 3, kExtensible = 0xFFFE;
  if (bytes.size() < kRiffHeader || bytes.substr(0, 4) != "RIFF" || bytes.substr(8, 4) != "WAVE") {
    return std::nullopt;
  }
  for (size_t at = kRiffHeader; at + kChunkHeader <= bytes.size();) {
    const uint64_t size = Little(bytes, at + 4, 4);
    if (bytes.substr(at, 4) == "fmt ") {
      if (size < kFmtBytes || at + kChunkHeader + kFmtBytes > bytes.size()) return std::nullopt;
      const size_t f = at + kChunkHeader;
      const uint32_t tag = Little(bytes, f, 2), channels = Little(bytes, f + 2, 2),
                     rate = Little(bytes, f + 4, 4), byte_rate = Little(bytes, f + 8, 4),
                     block_align = Little(bytes, f + 12, 2), bits = Little(bytes, f + 14, 2);
      if (tag != kPcm && tag != kFloat && tag != kExtensible) return std::nullopt;  // compressed
      const uint64_t frame = uint64_t{channels} * ((bits + 7) / 8);
      if (block_align != frame || uint64_t{byte_rate} != uint64_t{rate} * block_align) {
        return "audio: a WAV header that contradicts itself: " + std::to_string(channels) +
               " channels of " + std::to_string(bits) + " bits make " + std::to_string(frame) +
               " bytes a frame, it says " + std::to_string(block_align) + "; " +
               std::to_string(rate) + " Hz make " + std::to_string(uint64_t{rate} * frame) +
               " bytes a second, it says " + std::to_string(byte_rate);
      }
      return std::nullopt;
    }
    at += kChunkHeader + size + (size & 1);  // chunks are padded to even sizes
  }
  return std::nullopt;
}

}  // namespace

AudioDecoder::AudioDecoder(int target_rate, double max_seconds)
    : target_rate_(target_rate), max_seconds_(max_seconds) {}

Result<AudioDecoder::Audio> AudioDecoder::Decode(std::string_view bytes) const {
  if (bytes.empty()) return InvalidRequest("audio: 0 bytes");
  if (auto cut = RiffTruncation(bytes)) return InvalidRequest(*cut);
  if (auto lie = WavFormatContradiction(bytes)) return InvalidRequest(*lie);
  Source source{bytes};
  SF_VIRTUAL_IO io{Length, Seek, Read, Write, Tell};
  SF_INFO info{};
  std::unique_ptr<SNDFILE, SndfileCloser> file(sf_open_virtual(&io, SFM_READ, &info, &source));
  if (!file) {
    return InvalidRequest(std::string("audio: not a WAV, FLAC, Ogg/Vorbis, Ogg/Opus or MP3 (") +
                          sf_strerror(nullptr) + ")");
  }
  if (info.channels < 1 || info.channels > kMaxChannels) {
    return InvalidRequest("audio: " + std::to_string(info.channels) + " channels (1 to " +
                          std::to_string(kMaxChannels) + " are speech)");
  }
  if (info.samplerate < kMinRate || info.samplerate > kMaxRate) {
    return InvalidRequest("audio: a sample rate of " + std::to_string(info.samplerate) + " Hz (" +
                          std::to_string(kMinRate) + " to " + std::to_string(kMaxRate) +
                          " Hz are audio)");
  }
  const double declared = static_cast<double>(info.frames) / info.samplerate;
  if (info.frames > 0 && declared > max_seconds_) {
    return InvalidRequest("audio: " + std::to_string(static_cast<int64_t>(declared)) +
                          " s is over the model's max_seconds = " +
                          std::to_string(static_cast<int64_t>(max_seconds_)));
  }
  // Read and mix down to mono floats, bounded by max_seconds whatever the header says.
  const auto max_frames = static_cast<sf_count_t>(max_seconds_ * info.samplerate);
  std::vector<float> mono;
  std::vector<float> block(static_cast<size_t>(kReadFrames * info.channels));
  sf_count_t got = 0;
  while ((got = sf_readf_float(file.get(), block.data(), kReadFrames)) > 0) {
    for (sf_count_t f = 0; f < got; ++f) {
      float sum = 0;
      for (int c = 0; c < info.channels; ++c)
        sum += block[static_cast<size_t>(f * info.channels + c)];
      mono.push_back(sum / static_cast<float>(info.channels));
    }
    if (static_cast<sf_count_t>(mono.size()) > max_frames) {
      return InvalidRequest("audio: longer than the model's max_seconds = " +
                            std::to_string(static_cast<int64_t>(max_seconds_)));
    }
  }
  if (sf_error(file.get()) != SF_ERR_NO_ERROR) {
    return InvalidRequest(std::string("audio: corrupt (") + sf_strerror(file.get()) + ")");
  }
  if (mono.empty()) return InvalidRequest("audio: holds no samples");
  if (info.frames > 0 && static_cast<sf_count_t>(mono.size()) < info.frames) {
    return InvalidRequest("audio: truncated: the header says " + std::to_string(info.frames) +
                          " frames, " + std::to_string(mono.size()) + " are present");
  }

  Audio audio;
  audio.seconds = static_cast<double>(mono.size()) / info.samplerate;
  std::vector<float> resampled;
  if (info.samplerate == target_rate_) {
    resampled = std::move(mono);
  } else {
    const double ratio = static_cast<double>(target_rate_) / info.samplerate;
    resampled.resize(static_cast<size_t>(std::ceil(mono.size() * ratio)) + 16);
    SRC_DATA data{};
    data.data_in = mono.data();
    data.input_frames = static_cast<long>(mono.size());
    data.data_out = resampled.data();
    data.output_frames = static_cast<long>(resampled.size());
    data.src_ratio = ratio;
    if (int e = src_simple(&data, SRC_SINC_FASTEST, 1); e != 0) {
      return Status(ErrorCode::kInternal,
                    std::string("audio: resampling failed: ") + src_strerror(e));
    }
    resampled.resize(static_cast<size_t>(data.output_frames_gen));
  }
  if (resampled.empty()) {
    return InvalidRequest("audio: too short: " + std::to_string(mono.size()) + " samples at " +
                          std::to_string(info.samplerate) + " Hz");
  }
  audio.samples.resize(resampled.size());
  std::transform(resampled.begin(), resampled.end(), audio.samples.begin(), [](float x) {
    return static_cast<int16_t>(std::lround(std::clamp(x, -1.0f, 1.0f) * 32767.0f));
  });
  return audio;
}

}  // namespace botmodels
