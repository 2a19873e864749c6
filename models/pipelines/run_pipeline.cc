// botmodels-run-pipeline MODEL_DIR --file INPUT [options]: runs a pipeline
// model (whisper, caption) once in this process, without a broker, and
// prints its outputs as JSON: the way to check an export
// (tools/export/, scripts/gpu-check.sh).
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "common/model_config.h"
#include "common/value.h"
#include "models/pipelines/pipeline_backends.h"

namespace {

using botmodels::protocol::DType;
using botmodels::protocol::Tensor;

int Fail(const std::string& message) {
  std::cerr << "botmodels-run-pipeline: " << message << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Runs a pipeline model (whisper, caption) once, in process; prints its outputs"};
  std::string dir, device = "cpu", file;
  std::optional<std::string> prompt, question, language, task;
  std::optional<int> beams, max_new_tokens;
  app.add_option("model", dir, "the model's folder (its model.toml)")->required();
  app.add_option("-f,--file", file, "the audio or image")->required();
  app.add_option("--device", device, "cpu, cuda or cuda:N")->capture_default_str();
  app.add_option("--prompt", prompt, "captioning: the caption's start");
  app.add_option("--question", question, "visual question answering: the question");
  app.add_option("--language", language, "whisper: the language (else detected)");
  app.add_option("--task", task, "whisper: transcribe or translate");
  app.add_option("--beams", beams, "beam search width (1: greedy)");
  app.add_option("--max-new-tokens", max_new_tokens, "tokens to generate, at most");
  CLI11_PARSE(app, argc, argv);

  auto config = botmodels::LoadModelConfig(dir);
  if (!config.ok()) return Fail(config.status().message());
  if (!botmodels::IsPipeline(config->backend))
    return Fail(dir + " is not a whisper or caption model");
  std::ifstream in(file, std::ios::binary);
  if (!in) return Fail("cannot read " + file);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  botmodels::protocol::NamedTensors inputs;
  inputs[config->backend == botmodels::BackendKind::kWhisper ? "audio" : "image"] = {
      DType::kBytes, {}, bytes.str()};
  for (const auto& [name, text] : {std::pair{"prompt", prompt},
                                   {"question", question},
                                   {"language", language},
                                   {"task", task}}) {
    if (text) inputs[name] = {DType::kString, {}, *text};
  }
  for (const auto& [name, number] :
       {std::pair{"beams", beams}, {"max_new_tokens", max_new_tokens}}) {
    if (number) inputs[name] = {DType::kValue, {}, botmodels::ValueWriter().Int(*number).Take()};
  }

  auto backend = botmodels::MakeWorkerBackend(*config, device);
  if (!backend.ok()) return Fail(backend.status().message());
  if (auto s = (*backend)->Load(); !s.ok()) return Fail(s.message());
  auto outputs = (*backend)->Infer(botmodels::protocol::ViewsOf(inputs));
  if (!outputs.ok()) return Fail(outputs.status().ToString());
  nlohmann::json out;
  for (const auto& [name, view] : outputs->views) {
    out[name] = view.dtype == DType::kValue
                    ? nlohmann::json::parse(botmodels::ValueToJson(view.data))
                    : nlohmann::json(std::string(view.data));
  }
  std::cout << out.dump() << "\n";
  return 0;
}
