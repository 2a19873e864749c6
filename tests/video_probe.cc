#include "tests/video_probe.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include <algorithm>
#include <cstring>

namespace botmodels::testing {
namespace {

struct Reader {
  const std::string* bytes;
  size_t position = 0;
  static int Read(void* opaque, uint8_t* buffer, int size) {
    auto* r = static_cast<Reader*>(opaque);
    const size_t n = std::min(static_cast<size_t>(size), r->bytes->size() - r->position);
    if (n == 0) return AVERROR_EOF;
    std::memcpy(buffer, r->bytes->data() + r->position, n);
    r->position += n;
    return static_cast<int>(n);
  }
  static int64_t Seek(void* opaque, int64_t offset, int whence) {
    auto* r = static_cast<Reader*>(opaque);
    if ((whence & ~AVSEEK_FORCE) == AVSEEK_SIZE) return static_cast<int64_t>(r->bytes->size());
    const int64_t base = whence == SEEK_CUR   ? static_cast<int64_t>(r->position)
                         : whence == SEEK_END ? static_cast<int64_t>(r->bytes->size())
                                              : 0;
    r->position = static_cast<size_t>(std::clamp<int64_t>(base + offset, 0, r->bytes->size()));
    return static_cast<int64_t>(r->position);
  }
};

// The offset of the top-level box `type`, or npos.
size_t BoxAt(const std::string& mp4, const char* type) {
  for (size_t at = 0; at + 8 <= mp4.size();) {
    uint64_t size = 0;
    for (int i = 0; i < 4; ++i) size = size << 8 | static_cast<uint8_t>(mp4[at + i]);
    if (mp4.compare(at + 4, 4, type) == 0) return at;
    if (size < 8) return std::string::npos;
    at += size;
  }
  return std::string::npos;
}

}  // namespace

Result<VideoInfo> ProbeVideo(const std::string& mp4) {
  const auto fail = [](const char* what) { return Status(ErrorCode::kInternal, what); };
  Reader reader{&mp4};
  constexpr int kBuffer = 1 << 16;
  AVIOContext* io = avio_alloc_context(static_cast<uint8_t*>(av_malloc(kBuffer)), kBuffer, 0,
                                       &reader, Reader::Read, nullptr, Reader::Seek);
  AVFormatContext* format = avformat_alloc_context();
  format->pb = io;
  VideoInfo info;
  AVCodecContext* codec = nullptr;
  AVPacket* packet = av_packet_alloc();
  AVFrame* frame = av_frame_alloc();
  Status status;
  if (avformat_open_input(&format, nullptr, nullptr, nullptr) < 0) {
    status = fail("ffmpeg cannot open the video");
  } else if (avformat_find_stream_info(format, nullptr) < 0) {
    status = fail("ffmpeg finds no stream");
  } else {
    const int index = av_find_best_stream(format, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    if (index < 0) {
      status = fail("no video stream");
    } else {
      const AVStream* stream = format->streams[index];
      const AVCodec* decoder = avcodec_find_decoder(stream->codecpar->codec_id);
      codec = avcodec_alloc_context3(decoder);
      avcodec_parameters_to_context(codec, stream->codecpar);
      if (!decoder || avcodec_open2(codec, decoder, nullptr) < 0) {
        status = fail("no decoder for the stream");
      } else {
        info.codec = decoder->name;
        info.width = stream->codecpar->width;
        info.height = stream->codecpar->height;
        info.fps = av_q2d(stream->avg_frame_rate);
        if (const auto* tag = av_dict_get(format->metadata, "comment", nullptr, 0)) {
          info.comment = tag->value;
        }
        const auto drain = [&] {
          while (avcodec_receive_frame(codec, frame) == 0) ++info.frames;
        };
        while (av_read_frame(format, packet) >= 0) {
          if (packet->stream_index == index && avcodec_send_packet(codec, packet) >= 0) drain();
          av_packet_unref(packet);
        }
        avcodec_send_packet(codec, nullptr);
        drain();
      }
    }
  }
  av_frame_free(&frame);
  av_packet_free(&packet);
  avcodec_free_context(&codec);
  avformat_close_input(&format);
  if (io) av_freep(&io->buffer);
  avio_context_free(&io);
  if (!status.ok()) return status;
  const size_t moov = BoxAt(mp4, "moov"), mdat = BoxAt(mp4, "mdat");
  info.index_first = moov != std::string::npos && mdat != std::string::npos && moov < mdat;
  return info;
}

}  // namespace botmodels::testing
