// botmodels: the command-line client (README.md, "The CLI").
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "bench/echo_proxy.h"
#include "cli/cli_commands.h"
#include "client/client_config.h"

int main(int argc, char** argv) {
  CLI::App app{"botmodels: talk to a botmodels broker"};
  app.require_subcommand(1);
  botmodels::CliSettings settings;
  if (const char* config = std::getenv("BOTMODELS_CONFIG")) settings.config = config;
  app.add_option("-c,--config", settings.config,
                 "broker config to read the endpoint and secret from (default $BOTMODELS_CONFIG)");
  app.add_option("-e,--endpoint", settings.endpoint, "broker endpoint (overrides the config)");
  app.add_option("-t,--timeout", settings.timeout_ms, "ms to wait for a reply")
      ->capture_default_str();
  app.add_flag("--json", settings.json, "print JSON (status, models, ping)");
  std::string curve_server_key, curve_key;
  app.add_option("--curve-server-key", curve_server_key,
                 "the broker's CURVE public key file, when its frontend uses CURVE");
  app.add_option("--curve-key", curve_key, "this client's CURVE secret key file (keygen)");

  auto* status = app.add_subcommand("status", "list the workers");
  auto* models = app.add_subcommand("models", "list the models and their state");
  auto* ping = app.add_subcommand("ping", "check that the broker answers");
  auto* restart = app.add_subcommand(
      "restart", "restart a worker once its requests in flight are done (admin key)");
  std::string worker;
  bool force = false;
  restart->add_option("worker", worker, "worker id, as status lists it")->required();
  restart->add_flag("--force", force, "kill it now; its requests in flight go to a sibling");
  auto* drain = app.add_subcommand(
      "drain", "stop a worker once its requests in flight are done, until restart (admin key)");
  drain->add_option("worker", worker, "worker id, as status lists it")->required();
  std::string model_name;
  auto* load = app.add_subcommand("load", "start a model's workers (admin key)");
  load->add_option("model", model_name, "model name")->required();
  auto* unload = app.add_subcommand(
      "unload", "stop a model's workers once their requests are done, until load (admin key)");
  unload->add_option("model", model_name, "model name")->required();
  auto* scale = app.add_subcommand("scale", "set a model's workers per device (admin key)");
  uint32_t replicas = 1;
  scale->add_option("model", model_name, "model name")->required();
  scale->add_option("--replicas", replicas, "workers per device, at least 1")
      ->required()
      ->check(CLI::Range(1u, 256u));
  auto* reload = app.add_subcommand(
      "reload",
      "re-read the repository: start, stop or restart the workers that changed (admin key)");
  auto* keygen = app.add_subcommand(
      "keygen", "write a CURVE keypair: PREFIX.key (secret, mode 0600) and PREFIX.pub");
  std::string key_prefix;
  keygen->add_option("prefix", key_prefix, "path prefix of the two files")->required();
  auto* infer = app.add_subcommand(
      "infer", "run a model; prints its outputs as JSON (a binary output goes to --out)");
  botmodels::InferArgs infer_args;
  std::string inputs, inputs_file;
  infer->add_option("model", infer_args.model, "model name")->required();
  auto* json_opt = infer->add_option("-j,--json", inputs, R"(inputs, e.g. '{"x": [1, 2, 3]}')");
  infer->add_option("-i,--inputs", inputs_file, "read the inputs JSON from a file ('-': stdin)")
      ->excludes(json_opt);
  infer->add_option("-f,--file", infer_args.file,
                    "a file for the model's binary input (an image, audio)");
  infer->add_option("--text", infer_args.text, "the model's text input");
  infer->add_option("--question", infer_args.question,
                    "a question about the --file image (visual question answering)");
  infer->add_flag("--stream", infer_args.stream,
                  "print text (Whisper, captioning) or progress (diffusion) to stderr as the "
                  "model makes it");
  infer->add_option("-o,--out", infer_args.out,
                    "write the binary output here (audio, an image, a video), as it streams in");
  auto* bench = app.add_subcommand(
      "bench", "measure latency and throughput against ZeroMQ and in-process libtorch");
  botmodels::bench::BenchOptions bench_options;
  bool smoke = false;
  std::string bench_json;
  bench->add_flag("--smoke", smoke, "a few short runs: checks that the bench works");
  bench->add_option("--json", bench_json, "also write the results as JSON to this file");
  bench->add_option("--concurrency", bench_options.concurrency, "clients per run")
      ->delimiter(',')
      ->capture_default_str();
  bench->add_option("--scale", bench_options.scale_workers, "no-op workers per scale run")
      ->delimiter(',')
      ->capture_default_str();
  int64_t duration_ms = bench_options.duration.count();
  bench->add_option("--duration-ms", duration_ms, "measured time per run")->capture_default_str();
  bench->add_option("--rows", bench_options.rows, "rows of 512 floats per request")
      ->capture_default_str();
  bench->add_option("--threads", bench_options.threads, "intra-op threads of the mlp")
      ->capture_default_str();
  bench
      ->add_option("--parts", bench_options.parts,
                   "hop: (a) and (b); served: (c), (d) and the restart; scale; gateway: (e) "
                   "and (f)")
      ->delimiter(',')
      ->check(CLI::IsMember({"hop", "served", "scale", "gateway"}))
      ->capture_default_str();
  // Bench run (a)'s processes, started by `bench` itself: hidden from --help.
  std::string frontend, backend;
  auto* bench_proxy = app.add_subcommand("bench-proxy")->group("");
  bench_proxy->add_option("frontend", frontend)->required();
  bench_proxy->add_option("backend", backend)->required();
  auto* bench_echo = app.add_subcommand("bench-echo")->group("");
  bench_echo->add_option("backend", backend)->required();
  CLI11_PARSE(app, argc, argv);

  if (*bench_proxy) {
    botmodels::bench::RunProxy(frontend, backend);  // until killed
    return 0;
  }
  if (*bench_echo) {
    botmodels::bench::RunEcho(backend);  // until killed
    return 0;
  }

  if (*keygen) return botmodels::RunKeygen(key_prefix);
  if (*bench) {
    const auto bin_dir = std::filesystem::read_symlink("/proc/self/exe").parent_path();
    if (smoke) {
      auto parts = bench_options.parts;  // smoke shortens the runs, not the choice of them
      bench_options = botmodels::bench::SmokeOptions(bin_dir);
      bench_options.parts = std::move(parts);
    } else {
      bench_options.bin_dir = bin_dir;
      bench_options.duration = std::chrono::milliseconds(duration_ms);
    }
    return botmodels::RunBenchmark(bench_options, bench_json);
  }
  auto options = botmodels::LoadClientOptions(settings.config);
  if (options.ok()) {
    if (auto s = botmodels::AddClientCurve(curve_server_key, curve_key, &*options); !s.ok()) {
      options = s;
    } else if (!options->curve_server_key.empty() && !options->curve_key) {
      options = botmodels::Status(botmodels::ErrorCode::kInvalidRequest,
                                  "the broker's frontend uses CURVE: pass --curve-key FILE "
                                  "(a key on its client_keys list)");
    }
  }
  if (!options.ok()) {
    std::cerr << "error: " << options.status().message() << "\n";
    return 2;
  }
  if (!settings.endpoint.empty()) options->endpoint = settings.endpoint;
  options->timeout = std::chrono::milliseconds(settings.timeout_ms);
  botmodels::Client client(std::move(*options));

  if (*status) return botmodels::RunStatus(client, settings);
  if (*models) return botmodels::RunModels(client, settings);
  if (*ping) return botmodels::RunPing(client, settings);
  if (*restart) return botmodels::RunRestart(client, worker, force);
  if (*drain) return botmodels::RunDrain(client, worker);
  if (*reload) return botmodels::RunReload(client);
  if (*load) return botmodels::RunModelOp(client, botmodels::protocol::Op::kLoad, model_name);
  if (*unload) return botmodels::RunModelOp(client, botmodels::protocol::Op::kUnload, model_name);
  if (*scale) {
    return botmodels::RunModelOp(client, botmodels::protocol::Op::kScale, model_name, replicas);
  }
  if (!inputs_file.empty()) {
    std::ifstream file;
    if (inputs_file != "-") file.open(inputs_file);
    std::istream& in = inputs_file == "-" ? std::cin : file;
    if (!in) {
      std::cerr << "error: cannot read " << inputs_file << "\n";
      return 2;
    }
    inputs.assign(std::istreambuf_iterator<char>(in), {});
  }
  if (!inputs.empty()) infer_args.inputs_json = inputs;
  return botmodels::RunInfer(client, infer_args);
}
