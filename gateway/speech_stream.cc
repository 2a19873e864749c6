#include "gateway/speech_stream.h"

#include <memory>

#include "gateway/routes/route_replies.h"
#include "gateway/stream_source.h"
#include "models/codecs/wav.h"
#include "models/speech/tts_spec.h"

namespace botmodels {
namespace {

using protocol::DType;

// A WAV header whose sizes say "to the end": the length of streamed speech
// is not known when its header goes out.
constexpr uint32_t kStreamedWavBytes = 0xFFFFFFFF - 36;

HttpResponse AudioHead(AudioForm form, int sample_rate) {
  HttpResponse response;
  response.headers.Set("Content-Type", form == AudioForm::kWav ? "audio/wav" : "audio/pcm");
  response.headers.Set("X-Sample-Rate", std::to_string(sample_rate));
  response.headers.Set("Cache-Control", "no-store");
  return response;
}

// A whole WAV as `form`: itself, or its samples.
HttpResponse WholeAudio(AudioForm form, std::string wav) {
  int rate = 0;
  const std::vector<int16_t> samples = ReadWavSamples(wav, &rate);
  HttpResponse response = AudioHead(form, rate);
  if (form == AudioForm::kPcm) {
    wav.assign(reinterpret_cast<const char*>(samples.data()), samples.size() * sizeof(int16_t));
  }
  response.body = std::move(wav);
  return response;
}

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
  auto body = std::make_shared<std::shared_ptr<StreamSource>>();
  broker.Stream(
      std::move(request), timeout,
      [body, form, respond](protocol::Reply partial) {
        const auto pcm = partial.outputs.find(tts_io::kPcm);
        if (pcm == partial.outputs.end() || pcm->second.dtype != DType::kBytes) return;
        if (!*body) {
          const auto rate = route_replies::Output(partial.outputs, tts_io::kSampleRate);
          const int sample_rate = rate.is_number() ? rate.get<int>() : 0;
          *body = std::make_shared<StreamSource>();
          if (form == AudioForm::kWav) (*body)->Push(WavHeader(sample_rate, kStreamedWavBytes));
          HttpResponse response = AudioHead(form, sample_rate);
          response.source = *body;
          respond(std::move(response));
        }
        (*body)->Push(std::move(pcm->second.data));
      },
      [body, form, respond, fail](Result<protocol::Reply>&& reply) {
        Status status =
            reply.ok() ? Status(reply->status).WithRetryable(reply->retryable) : reply.status();
        if (*body) return status.ok() ? (*body)->End() : (*body)->Fail(status);
        if (!status.ok()) return fail(status);
        const auto audio = reply->outputs.find(tts_io::kAudio);
        if (audio == reply->outputs.end() || audio->second.dtype != DType::kBytes) {
          return fail({ErrorCode::kInternal, "the model returned no audio"});
        }
        respond(WholeAudio(form, std::move(audio->second.data)));
      });
}

}  // namespace botmodels
