#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "common/protocol.h"
#include "common/status.h"
#include "gateway/broker_caller.h"
#include "gateway/http/http_message.h"

namespace botmodels {

// How streamed speech is sent.
enum class AudioForm {
  kWav,   // audio/wav whose sizes say "to the end": the length is not known yet
  kPcm,   // audio/pcm: bare 16-bit little-endian mono samples at 24 kHz (OpenAI's), resampled
  kMp3,   // audio/mpeg: encoded as the samples come (LAME, 64 kbit/s mono)
  kFlac,  // audio/flac: encoded whole once synthesized (libsndfile)
  kOpus,  // audio/ogg: Ogg/Opus, encoded whole once synthesized (libsndfile)
};

// Asks the tts `model` to speak `inputs` as a stream and answers `respond`
// with the audio, chunked, as each piece is synthesized (the model's partial
// replies). Until the first piece a failure is an ordinary answer, made by
// `fail`; after it the body is cut short. A model that does not stream
// answers in one piece, sent as one.
void StreamSpeech(BrokerCaller& broker, const std::string& model, protocol::NamedTensors inputs,
                  std::chrono::milliseconds timeout, AudioForm form,
                  std::function<void(const Status&)> fail, Respond respond);

}  // namespace botmodels
