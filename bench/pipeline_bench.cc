// botmodels-pipeline-bench [--size base|small] STANDINS [SECONDS]: with
// --size, Whisper and BLIP at a real model's size (real_size.h), the
// stand-ins written into STANDINS when missing. `--few-rows [SECONDS]`:
// only the few-row products, libtorch's against ours (few_rows_bench.h),
// SECONDS per figure. Without: what the pipelines cost
// around their models, in process, on the CPU (docs/performance.md#pipelines):
// audio decoding and Whisper's log-mel per second of audio, image decoding
// and pre-processing per photo, and decode steps per second of the
// stand-in decoders (tiny: the figures are the loop's and the vocabulary's
// cost, not a real model's); for diffusion at 512 x 512, the time per step
// (the sampler, guidance and the stand-in denoiser) and per image (with the
// VAE decode and the PNG). Prints one JSON object per line.
#include <sndfile.h>
#include <torch/script.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>

#include "bench/few_rows_bench.h"
#include "bench/mean_ms.h"
#include "bench/real_size.h"
#include "common/value.h"
#include "models/codecs/audio_decoder.h"
#include "models/codecs/png_encoder.h"
#include "models/pipelines/image_preprocessor.h"
#include "models/pipelines/log_mel.h"
#include "models/registry/model_config.h"
#include "models/torchscript/intra_op_threads.h"
#include "models/torchscript/torch_device.h"
#include "models/worker_backends.h"
#include "testing/media.h"

namespace {

using Clock = std::chrono::steady_clock;

using botmodels::MeanMs;

void Print(const char* what, const char* unit, double value) {
  std::printf("{\"measure\": \"%s\", \"%s\": %.3f}\n", what, unit, value);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  botmodels::SleepingOpenMpThreads(argv);  // as botmodels-worker runs
  if (argc >= 2 && std::string(argv[1]) == "--few-rows") {
    botmodels::RunFewRowsBench(argc > 2 ? std::stod(argv[2]) : 0.2);
    return 0;
  }
  if (argc >= 4 && std::string(argv[1]) == "--size") {
    try {
      botmodels::RunRealSizeBench(argv[3], BOTMODELS_FIXTURES, argv[2],
                                  argc > 4 ? std::stod(argv[4]) : 2.0);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "botmodels-pipeline-bench: %s\n", e.what());
      return 1;
    }
    return 0;
  }
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: botmodels-pipeline-bench [--size base|small] STANDINS [SECONDS]\n"
                 "       botmodels-pipeline-bench --few-rows [SECONDS]\n");
    return 2;
  }
  const std::string standins = argv[1];
  const double seconds = argc > 2 ? std::stod(argv[2]) : 2.0;
  try {
    using namespace botmodels;
    c10::InferenceMode guard;
    // 30 s of a 44.1 kHz stereo voice-like signal, as WAV and as Ogg/Opus.
    std::vector<int16_t> samples(30 * 44100);
    for (size_t i = 0; i < samples.size(); ++i) {
      samples[i] = static_cast<int16_t>(8000 * std::sin(0.05 * i) * std::sin(0.0003 * i));
    }
    const std::string wav = media::EncodeAudio(samples, 44100, 2, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    const std::string opus = media::EncodeAudio(samples, 48000, 1, SF_FORMAT_OGG | SF_FORMAT_OPUS);
    const AudioDecoder audio(LogMel::kSampleRate, 3600);
    Print("decode and resample WAV 44.1 kHz stereo, per second of audio", "ms",
          MeanMs(seconds, [&] { (void)audio.Decode(wav); }) / 30);
    Print("decode Ogg/Opus, per second of audio", "ms",
          MeanMs(seconds, [&] { (void)audio.Decode(opus); }) / 30);
    const LogMel mel(80);
    const std::vector<float> window(LogMel::kWindowSamples, 0.01f);
    Print("Whisper log-mel (80 bins), per second of audio", "ms",
          MeanMs(seconds, [&] { mel.Compute(window); }) / 30);

    PixPtr photo(pixCreate(1920, 1080, 32));
    for (int y = 0; y < 1080; y += 2) {
      for (int x = 0; x < 1920; x += 2) pixSetRGBPixel(photo.get(), x, y, x % 256, y % 256, 90);
    }
    const std::string jpeg = media::PixToJpeg(photo.get());
    const ImageDecoder images(50'000'000);
    Print("decode a 1920x1080 JPEG", "ms", MeanMs(seconds, [&] { (void)images.Decode(jpeg); }));
    auto pre = ImagePreprocessor::Load(standins + "/caption-standin/preprocessor_config.json");
    if (!pre.ok()) throw std::runtime_error(pre.status().message());
    auto decoded = images.Decode(jpeg);
    Print("pre-process it to 64x64 (bicubic, normalized)", "ms",
          MeanMs(seconds, [&] { pre->Process(decoded->get()); }));
    const std::string blip = std::filesystem::temp_directory_path() / "botmodels-bench-blip.json";
    std::ofstream(blip) << R"({"size": {"height": 384, "width": 384}, "resample": 3})";
    auto blip_pre = ImagePreprocessor::Load(blip);
    std::filesystem::remove(blip);
    if (!blip_pre.ok()) throw std::runtime_error(blip_pre.status().message());
    Print("pre-process it to BLIP's 384x384", "ms",
          MeanMs(seconds, [&] { blip_pre->Process(decoded->get()); }));

    for (const char* name : {"whisper-standin", "caption-standin"}) {
      auto config = LoadModelConfig(standins + "/" + name);
      if (!config.ok()) throw std::runtime_error(config.status().message());
      TorchDevice device("cpu", name);  // loads as the worker does
      if (Status s = device.Open(0); !s.ok()) throw std::runtime_error(s.message());
      auto loaded =
          device.Load(standins + "/" + name + "/" +
                      (config->backend == BackendKind::kWhisper ? "decoder_uncached.pt"
                                                                : "text_decoder_uncached.pt"));
      if (!loaded.ok()) throw std::runtime_error(loaded.status().message());
      torch::jit::Module decoder = std::move(*loaded);
      const torch::Tensor states =
          torch::randn({1, config->backend == BackendKind::kWhisper ? 1500 : 17, 32});
      const torch::Tensor tokens = torch::randint(0, 30000, {1, 8}, torch::kInt64);
      const double ms = MeanMs(seconds, [&] { decoder.forward({tokens, states}); });
      std::printf(
          "{\"measure\": \"%s decoder step (8 tokens, no cache)\", \"steps_per_second\": %.1f}\n",
          name, 1000 / ms);
      // A whole request in process: decode, pre-process, encode, generate.
      auto backend = MakeWorkerBackend(*config, "cpu");
      if (!backend.ok() || !(*backend)->Load().ok())
        throw std::runtime_error("cannot load " + std::string(name));
      protocol::NamedTensors inputs;
      if (config->backend == BackendKind::kWhisper) {
        inputs["audio"] = {protocol::DType::kBytes, {}, opus};
      } else {
        inputs["image"] = {protocol::DType::kBytes, {}, jpeg};
      }
      const auto views = protocol::ViewsOf(inputs);
      std::printf("{\"measure\": \"%s request (%s)\", \"ms\": %.1f}\n", name,
                  config->backend == BackendKind::kWhisper ? "30 s Ogg/Opus" : "1920x1080 JPEG",
                  MeanMs(seconds, [&] { (void)(*backend)->Infer(views); }));
    }

    // Diffusion at 512 x 512, 20 steps of DPM-Solver++(2M) with guidance:
    // the steps timed by their progress partials, the rest after them.
    auto config = LoadModelConfig(standins + "/sd-standin");
    if (!config.ok()) throw std::runtime_error(config.status().message());
    auto sd = MakeWorkerBackend(*config, "cpu");
    if (!sd.ok() || !(*sd)->Load().ok()) throw std::runtime_error("cannot load sd-standin");
    auto value = [](int64_t x) {
      return protocol::Tensor{protocol::DType::kValue, {}, ValueWriter().Int(x).Take()};
    };
    const protocol::NamedTensors sd_inputs{
        {"prompt", {protocol::DType::kString, {}, "a red bicycle"}},
        {"steps", value(20)},
        {"width", value(512)},
        {"height", value(512)},
        {"seed", value(1)}};
    const auto sd_views = protocol::ViewsOf(sd_inputs);
    std::vector<Clock::time_point> marks;
    RequestContext context;
    context.partial = [&](const protocol::TensorViews&) { marks.push_back(Clock::now()); };
    double step_ms = 0, after_ms = 0, image_ms = 0;
    const int runs = 3;
    for (int i = 0; i <= runs; ++i) {  // the first warms up
      marks.clear();
      const auto start = Clock::now();
      auto out = (*sd)->InferRequest(sd_views, context);
      const auto end = Clock::now();
      if (!out.ok()) throw std::runtime_error(out.status().message());
      if (i == 0) continue;
      using Ms = std::chrono::duration<double, std::milli>;
      step_ms += Ms(marks.back() - marks.front()).count() / (marks.size() - 1) / runs;
      after_ms += Ms(end - marks.back()).count() / runs;
      image_ms += Ms(end - start).count() / runs;
    }
    Print("sd-standin step at 512x512 (guided: 2 rows)", "ms", step_ms);
    Print("sd-standin VAE decode and PNG at 512x512", "ms", after_ms);
    Print("sd-standin image at 512x512, 20 steps", "ms", image_ms);
    std::vector<uint8_t> noise(512 * 512 * 3);
    for (size_t i = 0; i < noise.size(); ++i)
      noise[i] = static_cast<uint8_t>((i * 2654435761u) >> 13);
    Print("PNG of 512x512 noise", "ms", MeanMs(seconds, [&] {
            (void)EncodePng(noise.data(), 512, 512, {{"parameters", "x"}});
          }));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "botmodels-pipeline-bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
