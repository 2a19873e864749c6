#include "bench/real_size.h"

#include <sndfile.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <stdexcept>

#include "bench/few_rows_bench.h"
#include "bench/mean_ms.h"
#include "bench/served_broker.h"
#include "common/value.h"
#include "models/pipelines/log_mel.h"
#include "models/pipelines/script_decoder.h"
#include "models/pipelines/token_generator.h"
#include "models/registry/model_config.h"
#include "models/standins/standin_models.h"
#include "models/torchscript/int8_linear.h"
#include "models/torchscript/intra_op_threads.h"
#include "models/torchscript/torch_device.h"
#include "models/worker_backends.h"
#include "testing/media.h"

namespace botmodels {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kWindowTokens = 224;  // Whisper's sample_len: a full window's tokens
constexpr int kSpeechTokens = 100;  // a 30 s window of ordinary speech
constexpr int kCaptionTokens = 20;  // a caption
constexpr int kStepPosition = 100;  // where the single decoder step is timed

void Print(const std::string& model, const std::string& what, int threads, const char* unit,
           double value) {
  std::printf("{\"model\": \"%s\", \"measure\": \"%s\", \"threads\": %d, \"%s\": %.3f}\n",
              model.c_str(), what.c_str(), threads, unit, value);
  std::fflush(stdout);
}

double Cosine(const torch::Tensor& a, const torch::Tensor& b) {
  return torch::cosine_similarity(a.flatten().to(torch::kDouble), b.flatten().to(torch::kDouble), 0)
      .item<double>();
}

template <typename T>
T Must(Result<T> result, const std::string& what) {
  if (!result.ok()) throw std::runtime_error(what + ": " + result.status().message());
  return std::move(*result);
}

// `tokens` greedy tokens after `prompt`: no stop token, so always that many.
double GenerateMs(torch::jit::Module& decoder, const torch::Tensor& states, TorchDevice& device,
                  const Tokens& prompt, int tokens) {
  GenerationOptions options;
  options.max_new_tokens = tokens;
  const auto start = Clock::now();
  ScriptDecoder script(decoder, states, device);
  const Generated out = Must(TokenGenerator(options).Generate(script, prompt), "generate");
  if (static_cast<int>(out.tokens.size()) != tokens) throw std::runtime_error("short generation");
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// One decoder step at kStepPosition by the cached part itself (one token
// over a cache of the rest), in ms.
double StepMs(double seconds, torch::jit::Module& cached, const torch::Tensor& states) {
  const torch::Tensor prefix = torch::full({1, kStepPosition}, 500, torch::kInt64);
  const torch::Tensor next = torch::full({1, 1}, 501, torch::kInt64);
  const torch::Tensor cross = cached.run_method("cross", states).toTensor();
  std::vector<int64_t> empty = cross.sizes().vec();
  empty[4] = 0;
  const torch::Tensor cache =
      cached.forward({prefix, cross, torch::zeros(empty)}).toTupleRef().elements()[1].toTensor();
  return MeanMs(
      seconds,
      [&] {
        cached.forward({next, cross, cache});
      },
      5);
}

// The cached step as loaded, then the same part with its products left to
// libtorch (`aten`: loaded without few_row_products.h).
void StepCached(const std::string& model, int threads, double seconds, torch::jit::Module& cached,
                torch::jit::Module& aten, const torch::Tensor& states) {
  const double ms = StepMs(seconds, cached, states);
  Print(model, "decoder step at position 100, KV cache", threads, "ms", ms);
  const double aten_ms = StepMs(seconds, aten, states);
  Print(model, "decoder step at position 100, KV cache, products by libtorch", threads, "ms",
        aten_ms);
  Print(model, "decoder step, products by libtorch / few-row kernel", threads, "ratio",
        aten_ms / ms);
}

// The old form's step: the whole sequence again.
void StepUncached(const std::string& model, int threads, double seconds,
                  torch::jit::Module& uncached, const torch::Tensor& states) {
  const torch::Tensor whole = torch::full({1, kStepPosition + 1}, 500, torch::kInt64);
  Print(model, "decoder step at position 100, no cache", threads, "ms", MeanMs(seconds, [&] {
          uncached.forward({whole, states});
        }));
}

// A decoder part as TorchDevice::Load makes it in `precision`, but with its
// products left to libtorch (aten::linear, aten::matmul).
torch::jit::Module LibtorchProducts(const std::string& path, Precision precision) {
  torch::jit::Module module = torch::jit::load(path);
  module.eval();
  if (precision != Precision::kInt8) return module;
  return Must(QuantizeLinearInt8(module, {"cross"}), "int8").module;
}

// 30 s of a tone, as Whisper's encoder takes it.
torch::Tensor Mel() {
  std::vector<float> audio(LogMel::kWindowSamples);
  for (size_t i = 0; i < audio.size(); ++i) audio[i] = 0.1f * std::sin(0.05f * i);
  return LogMel(80).Compute(audio).unsqueeze(0);
}

void Whisper(const std::string& dir, const std::string& model, double seconds) {
  const Tokens prompt{50257, 50258, 50359, 50363};  // sot, en, transcribe, notimestamps
  const torch::Tensor mel = Mel();
  std::map<int, double> fp32_speech;       // threads -> encoder + 100 tokens, fp32
  torch::Tensor fp32_states, fp32_logits;  // 1 thread, to compare int8 with
  for (const Precision precision : {Precision::kFp32, Precision::kInt8}) {
    const std::string name = model + " " + std::string(PrecisionName(precision));
    TorchDevice device("cpu", model);
    if (!device.Open(0, precision).ok()) throw std::runtime_error("cpu");
    auto encoder = Must(device.Load(dir + "/encoder.pt"), "encoder");
    auto cached = Must(device.Load(dir + "/decoder.pt", {"cross"}), "decoder");
    auto aten = LibtorchProducts(dir + "/decoder.pt", precision);
    for (int threads : {1, 2}) {
      SetIntraOpThreads(threads);
      c10::InferenceMode guard;
      torch::Tensor states;
      const double encode_ms = MeanMs(
          seconds, [&] { states = encoder.forward({mel}).toTensor(); }, 3);
      Print(name, "log-mel and encoder, one 30 s window", threads, "ms", encode_ms);
      const double with = GenerateMs(cached, states, device, prompt, kWindowTokens);
      Print(name, "224-token window, KV cache", threads, "ms", with);
      StepCached(name, threads, seconds, cached, aten, states);
      if (precision == Precision::kFp32) {
        auto uncached = Must(device.Load(dir + "/decoder_uncached.pt"), "decoder_uncached");
        StepUncached(name, threads, seconds, uncached, states);
        const double without = GenerateMs(uncached, states, device, prompt, kWindowTokens);
        Print(name, "224-token window, no cache", threads, "ms", without);
        Print(name, "224-token window, no cache / KV cache", threads, "ratio", without / with);
      }
      const double speech = encode_ms + GenerateMs(cached, states, device, prompt, kSpeechTokens);
      Print(name, "real-time factor, 30 s with 100 tokens, KV cache", threads, "rtf",
            speech / 30000);
      if (precision == Precision::kFp32) {
        fp32_speech[threads] = speech;
      } else {
        Print(name, "encoder and 100 tokens, fp32 / int8", threads, "ratio",
              fp32_speech[threads] / speech);
      }
      if (threads != 1) continue;
      ScriptDecoder decoder(cached, precision == Precision::kFp32 ? states : fp32_states, device);
      const torch::Tensor logits = Must(decoder.Logits(prompt), "logits");
      if (precision == Precision::kFp32) {
        fp32_states = states;
        fp32_logits = logits;
      } else {
        Print(name, "encoder states, cosine to fp32", threads, "cosine",
              Cosine(states, fp32_states));
        Print(name, "first logits on fp32's states, cosine to fp32", threads, "cosine",
              Cosine(logits, fp32_logits));
      }
    }
  }
}

// A 30 s request for whisper-base through a real broker and worker against
// the same request to the same backend in this process, 2 threads each,
// sampled at a fixed temperature and seed: the same tokens both ways.
void ServedAgainstInProcess(const std::string& repository, const std::string& model) {
  constexpr int kRuns = 3;  // median of: each request takes seconds
  std::vector<int16_t> samples(30 * LogMel::kSampleRate);
  for (size_t i = 0; i < samples.size(); ++i)
    samples[i] = static_cast<int16_t>(8000 * std::sin(0.05 * i) * std::sin(0.0003 * i));
  const auto value = [](double x) {
    return protocol::Tensor{protocol::DType::kValue, {}, ValueWriter().Double(x).Take()};
  };
  const protocol::NamedTensors inputs{
      {"audio",
       {protocol::DType::kBytes,
        {},
        media::EncodeAudio(samples, LogMel::kSampleRate, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16)}},
      {"language", {protocol::DType::kString, {}, "en"}},
      {"max_new_tokens", value(kSpeechTokens)},
      {"temperature", value(0.5)},
      {"seed", value(1)}};
  auto config = Must(LoadModelConfig(repository + "/" + model), "model.toml");
  auto backend = Must(MakeWorkerBackend(config, "cpu"), "backend");
  SetIntraOpThreads(static_cast<int>(config.threads));
  if (Status s = backend->Load(); !s.ok()) throw std::runtime_error(s.message());
  const auto bin = std::filesystem::read_symlink("/proc/self/exe").parent_path();
  const auto work = std::filesystem::temp_directory_path() / "botmodels-real-size-bench";
  std::filesystem::create_directories(work);
  bench::ServedBroker broker({bin, work, "served", repository, {model}, 1});
  const auto time = [](const std::function<void()>& call) {
    const auto start = Clock::now();
    call();
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  };
  const auto in_process = [&] { Must(backend->Infer(protocol::ViewsOf(inputs)), "in process"); };
  const auto served = [&] { Must(broker.client().Infer(model, inputs), "served"); };
  in_process();  // warm both
  served();
  // Alternating, so that the host's drift over minutes moves both alike.
  std::vector<double> local_ms, served_ms;
  for (int i = 0; i < kRuns; ++i) {
    local_ms.push_back(time(in_process));
    served_ms.push_back(time(served));
  }
  const auto median = [](std::vector<double> ms) {
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
  };
  const double local = median(local_ms), remote = median(served_ms);
  const int threads = static_cast<int>(config.threads);
  Print(model, "30 s request, 100 sampled tokens, in process", threads, "ms", local);
  Print(model, "30 s request, 100 sampled tokens, served", threads, "ms", remote);
  Print(model, "served / in process", threads, "ratio", remote / local);
}

void Blip(const std::string& dir, const std::string& model, double seconds) {
  TorchDevice device("cpu", model);
  if (!device.Open(0).ok()) throw std::runtime_error("cpu");
  auto vision = Must(device.Load(dir + "/vision_encoder.pt"), "vision encoder");
  auto cached = Must(device.Load(dir + "/text_decoder.pt"), "text decoder");
  auto aten = LibtorchProducts(dir + "/text_decoder.pt", Precision::kFp32);
  auto uncached = Must(device.Load(dir + "/text_decoder_uncached.pt"), "text_decoder_uncached");
  const Tokens prompt{30522};  // [DEC]
  for (int threads : {1, 2}) {
    SetIntraOpThreads(threads);
    c10::InferenceMode guard;
    torch::Tensor states;
    const torch::Tensor pixels = torch::randn({1, 3, 384, 384});
    const double encode_ms = MeanMs(
        seconds, [&] { states = vision.forward({pixels}).toTensor(); }, 3);
    Print(model, "vision encoder, 384x384", threads, "ms", encode_ms);
    StepCached(model, threads, seconds, cached, aten, states);
    StepUncached(model, threads, seconds, uncached, states);
    const double with = GenerateMs(cached, states, device, prompt, kCaptionTokens);
    const double without = GenerateMs(uncached, states, device, prompt, kCaptionTokens);
    Print(model, "20-token caption, KV cache", threads, "ms", with);
    Print(model, "20-token caption, no cache", threads, "ms", without);
    Print(model, "caption with the encoder, KV cache", threads, "ms", encode_ms + with);
  }
}

}  // namespace

void RunRealSizeBench(const std::string& dir, const std::string& fixtures, const std::string& size,
                      double seconds) {
  if (size != "base" && size != "small") throw std::runtime_error("--size: base or small");
  const std::string whisper = dir + "/whisper-" + size + "-standin";
  if (!std::filesystem::exists(whisper + "/model.toml")) {
    std::fprintf(stderr, "writing %s (random weights)...\n", whisper.c_str());
    WriteWhisperStandin(dir, fixtures, size == "base" ? StandinSize::kBase : StandinSize::kSmall);
  }
  RunFewRowsBench(seconds / 10);  // ~80 figures
  Whisper(whisper, "whisper-" + size, seconds);
  // Served at base only: a small request outlasts the bench client's 10 s timeout.
  if (size != "base") return;
  ServedAgainstInProcess(dir, "whisper-" + size + "-standin");
  const std::string blip = dir + "/caption-base-standin";
  if (!std::filesystem::exists(blip + "/model.toml")) {
    std::fprintf(stderr, "writing %s (random weights)...\n", blip.c_str());
    WriteBlipBaseStandin(dir, fixtures);
  }
  Blip(blip, "blip-base", seconds);
}

}  // namespace botmodels
