// botmodels-run-pipeline MODEL_DIR [--file INPUT] [options]: runs a
// pipeline model (whisper, caption, diffusion) once in this process,
// without a broker, and prints its outputs as JSON (a generated file goes
// to --out): the way to check an export (tools/export/, scripts/gpu-check.sh).
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "common/value.h"
#include "models/registry/model_config.h"
#include "models/registry/model_families.h"
#include "models/worker_backends.h"

namespace {

using botmodels::protocol::DType;
using botmodels::protocol::Tensor;

int Fail(const std::string& message) {
  std::cerr << "botmodels-run-pipeline: " << message << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Runs a pipeline model (whisper, caption, diffusion) once, in process; prints its outputs"};
  std::string dir, device = "cpu", file, out_path;
  std::optional<std::string> prompt, question, language, task, negative_prompt, scheduler;
  std::optional<int> beams, max_new_tokens, steps, width, height, num_frames, fps;
  std::optional<int64_t> seed;
  std::optional<double> guidance_scale, temperature;
  bool timestamps = false;
  app.add_option("model", dir, "the model's folder (its model.toml)")->required();
  app.add_option("-f,--file", file, "the audio or image (whisper, caption)");
  app.add_option("-o,--out", out_path, "diffusion: where to write the image or video");
  app.add_option("--negative-prompt", negative_prompt, "diffusion: what to steer away from");
  app.add_option("--scheduler", scheduler, "diffusion: euler, euler_a, dpmpp_2m or lcm");
  app.add_option("--steps", steps, "diffusion: denoising steps");
  app.add_option("--width", width, "diffusion: px, a multiple of 8");
  app.add_option("--height", height, "diffusion: px, a multiple of 8");
  app.add_option("--seed", seed, "diffusion, whisper's sampling: the random seed");
  app.add_option("--temperature", temperature,
                 "whisper: > 0 samples at it; 0 decodes greedily with fallback");
  app.add_flag("--timestamps", timestamps, "whisper: timed segments from its timestamp tokens");
  app.add_option("--guidance-scale", guidance_scale, "diffusion: classifier-free guidance");
  app.add_option("--num-frames", num_frames, "video diffusion: frames");
  app.add_option("--fps", fps, "video diffusion: frames per second");
  app.add_option("--device", device, "cpu, cuda or cuda:N")->capture_default_str();
  app.add_option("--prompt", prompt, "captioning: the caption's start; diffusion: the prompt");
  app.add_option("--question", question, "visual question answering: the question");
  app.add_option("--language", language, "whisper: the language (else detected)");
  app.add_option("--task", task, "whisper: transcribe or translate");
  app.add_option("--beams", beams, "beam search width (1: greedy)");
  app.add_option("--max-new-tokens", max_new_tokens, "tokens to generate, at most");
  CLI11_PARSE(app, argc, argv);

  auto config = botmodels::LoadModelConfig(dir);
  if (!config.ok()) return Fail(config.status().message());
  if (botmodels::FamilyOf(config->backend).files != botmodels::ModelFiles::kParts) {
    return Fail(dir + " is not a pipeline model");
  }
  const bool generates = config->backend == botmodels::BackendKind::kDiffusion ||
                         config->backend == botmodels::BackendKind::kVideoDiffusion;
  botmodels::protocol::NamedTensors inputs;
  if (!generates) {
    std::ifstream in(file, std::ios::binary);
    if (file.empty() || !in) return Fail("cannot read the --file '" + file + "'");
    std::ostringstream bytes;
    bytes << in.rdbuf();
    inputs[config->backend == botmodels::BackendKind::kWhisper ? "audio" : "image"] = {
        DType::kBytes, {}, bytes.str()};
  }
  for (const auto& [name, text] : {std::pair{"prompt", prompt},
                                   {"question", question},
                                   {"language", language},
                                   {"task", task},
                                   {"negative_prompt", negative_prompt},
                                   {"scheduler", scheduler}}) {
    if (text) inputs[name] = {DType::kString, {}, *text};
  }
  for (const auto& [name, number] : {std::pair{"beams", beams},
                                     {"max_new_tokens", max_new_tokens},
                                     {"steps", steps},
                                     {"width", width},
                                     {"height", height},
                                     {"num_frames", num_frames},
                                     {"fps", fps}}) {
    if (number) inputs[name] = {DType::kValue, {}, botmodels::ValueWriter().Int(*number).Take()};
  }
  if (seed) inputs["seed"] = {DType::kValue, {}, botmodels::ValueWriter().Int(*seed).Take()};
  for (const auto& [name, number] :
       {std::pair{"guidance_scale", guidance_scale}, {"temperature", temperature}}) {
    if (number) inputs[name] = {DType::kValue, {}, botmodels::ValueWriter().Double(*number).Take()};
  }
  if (timestamps) {
    inputs["timestamps"] = {DType::kValue, {}, botmodels::ValueWriter().Bool(true).Take()};
  }

  auto backend = botmodels::MakeWorkerBackend(*config, device);
  if (!backend.ok()) return Fail(backend.status().message());
  if (auto s = (*backend)->Load(); !s.ok()) return Fail(s.message());
  auto outputs = (*backend)->Infer(botmodels::protocol::ViewsOf(inputs));
  if (!outputs.ok()) return Fail(outputs.status().ToString());
  nlohmann::json out;
  for (const auto& [name, view] : outputs->views) {
    if (view.dtype == DType::kBytes) {  // a generated file
      out[name] = {{"bytes", view.data.size()}};
      if (out_path.empty()) continue;
      std::ofstream file_out(out_path, std::ios::binary);
      file_out << view.data;
      if (!file_out) return Fail("cannot write " + out_path);
      out[name]["path"] = out_path;
      continue;
    }
    out[name] = view.dtype == DType::kValue
                    ? nlohmann::json::parse(botmodels::ValueToJson(view.data))
                    : nlohmann::json(std::string(view.data));
  }
  std::cout << out.dump() << "\n";
  return 0;
}
