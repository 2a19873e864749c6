// botmodels: the command-line client (README.md, "The CLI").
#include <CLI/CLI.hpp>
#include <boost/algorithm/string.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/cli_commands.h"
#include "client/client_config.h"

int main(int argc, char** argv) {
  CLI::App app{"botmodels: talk to a botmodels broker"};
  app.require_subcommand(1);
  botmodels::CliSettings settings;
  if (const char* config = std::getenv("BOTMODELS_CONFIG")) settings.config = config;
  app.add_option("-c,--config", settings.config,
                 "broker config to read the endpoint and secret from (default $BOTMODELS_CONFIG)");
  app.add_option("-e,--endpoint", settings.endpoint,
                 "broker endpoint (overrides the config); a comma-separated list fails over "
                 "from one broker to the next");
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
  // The benchmark is its own executable beside this one (bench/): its
  // arguments go there untouched.
  auto* bench =
      app.add_subcommand("bench",
                         "measure latency and throughput against ZeroMQ and in-process libtorch "
                         "(botmodels bench --help)");
  bench->prefix_command();
  bench->set_help_flag();
  CLI11_PARSE(app, argc, argv);

  if (*keygen) return botmodels::RunKeygen(key_prefix);
  if (*bench) return botmodels::RunBench(bench->remaining());
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
  if (!settings.endpoint.empty()) {
    std::vector<std::string> endpoints;
    boost::split(endpoints, settings.endpoint, boost::is_any_of(","));
    options->endpoint = endpoints.front();
    options->failover_endpoints.assign(endpoints.begin() + 1, endpoints.end());
  }
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
