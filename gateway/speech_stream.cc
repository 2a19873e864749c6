#include "gateway/speech_stream.h"

#include <sndfile.h>

#include <memory>
#include <optional>
#include <span>

#include "gateway/routes/route_replies.h"
#include "gateway/stream_source.h"
#include "models/codecs/mp3_encoder.h"
#include "models/codecs/resampler.h"
#include "models/codecs/sound_encoder.h"
#include "models/codecs/wav.h"
#include "models/speech/tts_spec.h"

namespace botmodels {
namespace {

using protocol::DType;

// A WAV header whose sizes say "to the end": the length of streamed speech
// is not known when its header goes out.
constexpr uint32_t kStreamedWavBytes = 0xFFFFFFFF - 36;
constexpr int kPcmRate = 24000;  // Hz: OpenAI's pcm, which clients play without a header

const char* ContentType(AudioForm form) {
  switch (form) {
    case AudioForm::kWav:
      return "audio/wav";
    case AudioForm::kPcm:
      return "audio/pcm";
    case AudioForm::kMp3:
      return "audio/mpeg";
    case AudioForm::kFlac:
      return "audio/flac";
    case AudioForm::kOpus:
      return "audio/ogg";
  }
  return "application/octet-stream";
}

std::span<const int16_t> Samples(const std::string& pcm) {
  return {reinterpret_cast<const int16_t*>(pcm.data()), pcm.size() / sizeof(int16_t)};
}

std::string Bytes(const std::vector<int16_t>& samples) {
  return {reinterpret_cast<const char*>(samples.data()), samples.size() * sizeof(int16_t)};
}

HttpResponse AudioHead(AudioForm form, int sample_rate) {
  HttpResponse response;
  response.headers.Set("Content-Type", ContentType(form));
  if (form == AudioForm::kPcm || form == AudioForm::kWav) {  // the others carry their own
    response.headers.Set("X-Sample-Rate",
                         std::to_string(form == AudioForm::kPcm ? kPcmRate : sample_rate));
  }
  response.headers.Set("Cache-Control", "no-store");
  return response;
}

// Whether `form` is encoded from the whole sound at its end.
bool Whole(AudioForm form) { return form == AudioForm::kFlac || form == AudioForm::kOpus; }

// The whole sound as FLAC or Ogg/Opus (resampled to 24 kHz for a rate Opus
// does not take).
Result<std::string> EncodeWhole(AudioForm form, std::vector<int16_t> samples, int rate) {
  if (form == AudioForm::kFlac) {
    return EncodeSound(samples, rate, 1, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  }
  if (rate != 8000 && rate != 12000 && rate != 16000 && rate != 24000 && rate != 48000) {
    auto resampler = Resampler::Create(rate, kPcmRate);
    if (!resampler.ok()) return resampler.status();
    samples = resampler->Convert(samples, /*last=*/true);
    rate = kPcmRate;
  }
  return EncodeSound(samples, rate, 1, SF_FORMAT_OGG | SF_FORMAT_OPUS);
}

// A whole WAV as `form`: itself, its samples, or those encoded.
Result<HttpResponse> WholeAudio(AudioForm form, std::string wav) {
  int rate = 0;
  const std::vector<int16_t> samples = ReadWavSamples(wav, &rate);
  HttpResponse response = AudioHead(form, rate);
  if (form == AudioForm::kPcm) {
    auto resampler = Resampler::Create(rate, kPcmRate);
    if (!resampler.ok()) return resampler.status();
    wav = Bytes(resampler->Convert(samples, /*last=*/true));
  } else if (form == AudioForm::kMp3) {
    auto encoder = Mp3Encoder::Create(rate);
    if (!encoder.ok()) return encoder.status();
    wav = encoder->Encode(samples) + encoder->Finish();
  } else if (Whole(form)) {
    auto encoded = EncodeWhole(form, samples, rate);
    if (!encoded.ok()) return encoded.status();
    wav = std::move(*encoded);
  }
  response.body = std::move(wav);
  return response;
}

// What a stream sends: the model's pieces as they come, in `form`.
class AudioStream {
 public:
  AudioStream(AudioForm form, int sample_rate) : form_(form), sample_rate_(sample_rate) {}

  Status Start() {
    if (form_ == AudioForm::kWav) body_->Push(WavHeader(sample_rate_, kStreamedWavBytes));
    if (form_ == AudioForm::kMp3) {
      auto encoder = Mp3Encoder::Create(sample_rate_);
      if (!encoder.ok()) return encoder.status();
      mp3_.emplace(std::move(*encoder));
    }
    if (form_ == AudioForm::kPcm) {
      auto resampler = Resampler::Create(sample_rate_, kPcmRate);
      if (!resampler.ok()) return resampler.status();
      resampler_.emplace(std::move(*resampler));
    }
    return Status();
  }
  void Push(std::string pcm) {
    if (Whole(form_)) {
      const auto samples = Samples(pcm);
      whole_.insert(whole_.end(), samples.begin(), samples.end());
      return;
    }
    if (mp3_) return body_->Push(mp3_->Encode(Samples(pcm)));
    if (resampler_) return body_->Push(Bytes(resampler_->Convert(Samples(pcm))));
    body_->Push(std::move(pcm));
  }
  void End(const Status& status) {
    if (!status.ok()) return body_->Fail(status);
    if (mp3_) body_->Push(mp3_->Finish());
    if (resampler_) body_->Push(Bytes(resampler_->Convert({}, /*last=*/true)));
    if (Whole(form_)) {
      auto encoded = EncodeWhole(form_, std::move(whole_), sample_rate_);
      if (!encoded.ok()) return body_->Fail(encoded.status());
      body_->Push(std::move(*encoded));
    }
    body_->End();
  }
  const std::shared_ptr<StreamSource>& body() const { return body_; }

 private:
  AudioForm form_;
  int sample_rate_;
  std::shared_ptr<StreamSource> body_ = std::make_shared<StreamSource>();
  std::optional<Mp3Encoder> mp3_;
  std::optional<Resampler> resampler_;
  std::vector<int16_t> whole_;  // FLAC and Opus: the sound so far
};

}  // namespace

void StreamSpeech(BrokerCaller& broker, const std::string& model, protocol::NamedTensors inputs,
                  std::chrono::milliseconds timeout, AudioForm form,
                  std::function<void(const Status&)> fail, Respond respond) {
  protocol::Request request;
  request.op = protocol::Op::kInfer;
  request.model = model;
  request.inputs = std::move(inputs);
  request.stream = true;
  // Both handlers run on the hop's lane, one after the other.
  struct State {
    std::unique_ptr<AudioStream> audio;  // once the first piece came
    bool failed = false;                 // answered with an error already
  };
  auto state = std::make_shared<State>();
  broker.Stream(
      std::move(request), timeout,
      [state, form, respond, fail](protocol::Reply partial) {
        const auto pcm = partial.outputs.find(tts_io::kPcm);
        if (state->failed || pcm == partial.outputs.end() || pcm->second.dtype != DType::kBytes) {
          return;
        }
        if (!state->audio) {
          const auto rate = route_replies::Output(partial.outputs, tts_io::kSampleRate);
          const int sample_rate = rate.is_number() ? rate.get<int>() : 0;
          auto audio = std::make_unique<AudioStream>(form, sample_rate);
          if (Status status = audio->Start(); !status.ok()) {
            state->failed = true;
            return fail(status);
          }
          state->audio = std::move(audio);
          HttpResponse response = AudioHead(form, sample_rate);
          response.source = state->audio->body();
          respond(std::move(response));
        }
        state->audio->Push(std::move(pcm->second.data));
      },
      [state, form, respond, fail](Result<protocol::Reply>&& reply) {
        if (state->failed) return;
        Status status =
            reply.ok() ? Status(reply->status).WithRetryable(reply->retryable) : reply.status();
        if (state->audio) return state->audio->End(status);
        if (!status.ok()) return fail(status);
        const auto audio = reply->outputs.find(tts_io::kAudio);
        if (audio == reply->outputs.end() || audio->second.dtype != DType::kBytes) {
          return fail({ErrorCode::kInternal, "the model returned no audio"});
        }
        auto whole = WholeAudio(form, std::move(audio->second.data));
        if (!whole.ok()) return fail(whole.status());
        respond(std::move(*whole));
      });
}

}  // namespace botmodels
