#include "models/codecs/mp4_encoder.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>

namespace botmodels {
namespace {

constexpr int kIoBufferBytes = 64 * 1024;  // FFmpeg's I/O buffer: its usual size
// Bytes reserved at the start for the index (moov), so it comes first
// without the second pass "faststart" needs (which reopens a file by
// name): a fixed part, and per frame its size, offset and time entries.
constexpr int kIndexBytes = 4096;
constexpr int kIndexBytesPerFrame = 48;

// A growable file in memory that the MP4 muxer writes, seeks and (for
// faststart) reads back.
struct MemoryFile {
  std::string bytes;
  size_t position = 0;

  static int Read(void* opaque, uint8_t* buffer, int size) {
    auto* f = static_cast<MemoryFile*>(opaque);
    const size_t n = std::min(static_cast<size_t>(size),
                              f->bytes.size() - std::min(f->position, f->bytes.size()));
    if (n == 0) return AVERROR_EOF;
    std::memcpy(buffer, f->bytes.data() + f->position, n);
    f->position += n;
    return static_cast<int>(n);
  }
  static int Write(void* opaque, uint8_t* buffer, int size) {  // FFmpeg 5: not const
    auto* f = static_cast<MemoryFile*>(opaque);
    const size_t end = f->position + static_cast<size_t>(size);
    if (end > f->bytes.size()) f->bytes.resize(end);
    std::memcpy(f->bytes.data() + f->position, buffer, static_cast<size_t>(size));
    f->position = end;
    return size;
  }
  static int64_t Seek(void* opaque, int64_t offset, int whence) {
    auto* f = static_cast<MemoryFile*>(opaque);
    whence &= ~AVSEEK_FORCE;
    if (whence == AVSEEK_SIZE) return static_cast<int64_t>(f->bytes.size());
    int64_t base = 0;
    if (whence == SEEK_CUR) base = static_cast<int64_t>(f->position);
    if (whence == SEEK_END) base = static_cast<int64_t>(f->bytes.size());
    if (base + offset < 0) return AVERROR(EINVAL);
    f->position = static_cast<size_t>(base + offset);
    return base + offset;
  }
};

std::string Why(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, text, sizeof text);
  return text;
}

// Owners of FFmpeg's objects, freed in any order on any return.
struct Encoding {
  AVFormatContext* format = nullptr;
  AVCodecContext* codec = nullptr;
  AVFrame* frame = nullptr;
  AVPacket* packet = nullptr;
  SwsContext* scaler = nullptr;
  AVIOContext* io = nullptr;
  MemoryFile file;

  ~Encoding() {
    sws_freeContext(scaler);
    av_packet_free(&packet);
    av_frame_free(&frame);
    avcodec_free_context(&codec);
    if (io) av_freep(&io->buffer);
    avio_context_free(&io);
    avformat_free_context(format);
  }

  // Sends `f` (null: flush) and writes the packets that come out.
  int Send(AVStream* stream, AVFrame* f) {
    int rc = avcodec_send_frame(codec, f);
    while (rc >= 0) {
      rc = avcodec_receive_packet(codec, packet);
      if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return 0;
      if (rc < 0) return rc;
      av_packet_rescale_ts(packet, codec->time_base, stream->time_base);
      packet->stream_index = stream->index;
      rc = av_interleaved_write_frame(format, packet);
    }
    return rc;
  }
};

}  // namespace

Result<std::string> EncodeMp4(const uint8_t* rgb, int frames, int width, int height,
                              const Mp4Options& options) {
  if (!rgb || frames < 1 || width < 2 || height < 2 || width % 2 || height % 2) {
    return InvalidRequest("mp4: frames must be at least one, of an even width and height");
  }
  if (options.fps < 1 || options.fps > 240 || options.crf < 0 || options.crf > 51) {
    return InvalidRequest("mp4: fps must be 1-240 and crf 0-51");
  }
  const auto failed = [](const std::string& what, int code) {
    return Status(ErrorCode::kInternal, "mp4: " + what + (code ? ": " + Why(code) : ""));
  };
  static std::once_flag quiet;  // FFmpeg logs to stderr: only its errors are worth it
  std::call_once(quiet, [] { av_log_set_level(AV_LOG_ERROR); });
  const AVCodec* h264 = avcodec_find_encoder_by_name("libx264");
  if (!h264) h264 = avcodec_find_encoder(AV_CODEC_ID_H264);
  if (!h264) return failed("this FFmpeg has no H.264 encoder", 0);
  Encoding e;
  int rc = avformat_alloc_output_context2(&e.format, nullptr, "mp4", nullptr);
  if (rc < 0) return failed("no MP4 muxer", rc);
  auto* buffer = static_cast<uint8_t*>(av_malloc(kIoBufferBytes));
  e.io = avio_alloc_context(buffer, kIoBufferBytes, 1, &e.file, MemoryFile::Read, MemoryFile::Write,
                            MemoryFile::Seek);
  if (!e.io) return failed("out of memory", 0);
  e.format->pb = e.io;
  e.format->flags |= AVFMT_FLAG_CUSTOM_IO;
  for (const auto& [key, value] : options.metadata) {
    av_dict_set(&e.format->metadata, key.c_str(), value.c_str(), 0);
  }
  AVStream* stream = avformat_new_stream(e.format, nullptr);
  e.codec = avcodec_alloc_context3(h264);
  e.frame = av_frame_alloc();
  e.packet = av_packet_alloc();
  if (!stream || !e.codec || !e.frame || !e.packet) return failed("out of memory", 0);
  e.codec->width = width;
  e.codec->height = height;
  e.codec->pix_fmt = AV_PIX_FMT_YUV420P;
  e.codec->time_base = AVRational{1, options.fps};
  e.codec->framerate = AVRational{options.fps, 1};
  e.codec->gop_size = options.fps * 2;  // a keyframe every 2 s: seeking stays cheap
  if (e.format->oformat->flags & AVFMT_GLOBALHEADER) e.codec->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  av_opt_set_int(e.codec->priv_data, "crf", options.crf, 0);
  rc = avcodec_open2(e.codec, h264, nullptr);
  if (rc < 0) return failed("cannot open the H.264 encoder", rc);
  rc = avcodec_parameters_from_context(stream->codecpar, e.codec);
  if (rc < 0) return failed("cannot set the stream", rc);
  stream->time_base = e.codec->time_base;
  stream->avg_frame_rate = e.codec->framerate;
  AVDictionary* muxer_options = nullptr;
  av_dict_set_int(&muxer_options, "moov_size", kIndexBytes + kIndexBytesPerFrame * frames, 0);
  rc = avformat_write_header(e.format, &muxer_options);
  av_dict_free(&muxer_options);
  if (rc < 0) return failed("cannot write the header", rc);
  e.frame->format = AV_PIX_FMT_YUV420P;
  e.frame->width = width;
  e.frame->height = height;
  rc = av_frame_get_buffer(e.frame, 0);
  if (rc < 0) return failed("out of memory", rc);
  e.scaler = sws_getContext(width, height, AV_PIX_FMT_RGB24, width, height, AV_PIX_FMT_YUV420P,
                            SWS_BICUBIC, nullptr, nullptr, nullptr);
  if (!e.scaler) return failed("cannot convert RGB to YUV", 0);
  const size_t frame_bytes = static_cast<size_t>(width) * height * 3;
  for (int i = 0; i < frames; ++i) {
    rc = av_frame_make_writable(e.frame);
    if (rc < 0) return failed("out of memory", rc);
    const uint8_t* source[1] = {rgb + frame_bytes * static_cast<size_t>(i)};
    const int stride[1] = {width * 3};
    sws_scale(e.scaler, source, stride, 0, height, e.frame->data, e.frame->linesize);
    e.frame->pts = i;
    rc = e.Send(stream, e.frame);
    if (rc < 0) return failed("cannot encode frame " + std::to_string(i), rc);
  }
  rc = e.Send(stream, nullptr);
  if (rc < 0) return failed("cannot finish the stream", rc);
  rc = av_write_trailer(e.format);
  if (rc < 0) return failed("cannot write the index", rc);
  avio_flush(e.io);
  return std::move(e.file.bytes);
}

bool Mp4EncoderBuiltIn() { return true; }

}  // namespace botmodels
