#pragma once

#include <optional>
#include <string>
#include <vector>

#include "client/client.h"

namespace botmodels {

struct CliSettings {
  std::string config;    // broker config file, or empty
  std::string endpoint;  // overrides the config's frontend
  int64_t timeout_ms = 30'000;
  bool json = false;  // machine-readable output
};

// Each command prints its result on stdout and returns the process exit code:
// 0 on success; 1 when the broker answered an error (printed on stderr as
// "error: <code>: <message>"); 3 when no reply came.
int RunStatus(Client& client, const CliSettings& settings);
int RunModels(Client& client, const CliSettings& settings);
int RunPing(Client& client, const CliSettings& settings);
// `botmodels infer`: inputs from JSON, plus the model's first required bytes
// input from `file` and its first required string input from `text`; the
// outputs print as JSON, except a binary one, which goes to `out` (as it
// streams in, when the model streams).
struct InferArgs {
  std::string model;
  std::string inputs_json = "{}";
  std::string file;  // empty: none
  std::optional<std::string> text;
  std::optional<std::string> question;  // the model's `question` input
  bool stream = false;                  // text pieces to stderr as they come
  std::string out;                      // empty: binary outputs print as hex
};
int RunInfer(Client& client, const InferArgs& args);
int RunRestart(Client& client, const std::string& worker, bool force);
int RunDrain(Client& client, const std::string& worker);
int RunReload(Client& client);
// load, unload or scale (with `replicas` per device) a model.
int RunModelOp(Client& client, protocol::Op op, const std::string& model, uint32_t replicas = 0);
// Writes a CURVE keypair; prints the public key. 2 when a file exists.
int RunKeygen(const std::string& prefix);
// Runs `botmodels bench ARGS`: replaces this process with botmodels-bench,
// beside this executable, with `args`. Returns 2 only when that fails.
int RunBench(const std::vector<std::string>& args);

}  // namespace botmodels
