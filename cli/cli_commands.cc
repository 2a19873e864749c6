#include "cli/cli_commands.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/output_file.h"
#include "client/json_tensors.h"
#include "common/clock.h"
#include "common/value.h"
#include "common/worker_json.h"

namespace botmodels {
namespace {

using nlohmann::json;

constexpr int kExitErrorReply = 1;  // the broker answered with an error (or bad input here)
constexpr int kExitNoReply = 3;     // nothing answered in time

int Fail(const Status& status, int exit_code = kExitErrorReply) {
  std::cerr << "error: " << ErrorCodeName(status.code()) << ": " << status.message() << "\n";
  return exit_code;
}

// Sends `request` and returns its successful reply. Otherwise prints the
// error and returns nullopt with *exit_code set: kExitNoReply when nothing
// answered, kExitErrorReply for the broker's error reply (also `unavailable`).
std::optional<protocol::Reply> Ask(Client& client, protocol::Request request, int* exit_code) {
  auto reply = client.Call(std::move(request));
  if (!reply.ok()) {
    *exit_code = Fail(reply.status(), kExitNoReply);
    return std::nullopt;
  }
  if (!reply->status.ok()) {
    *exit_code = Fail(reply->status);
    return std::nullopt;
  }
  return std::move(*reply);
}

protocol::Request OpRequest(protocol::Op op) {
  protocol::Request request;
  request.op = op;
  return request;
}

std::string ShapeText(const std::optional<std::vector<int64_t>>& shape) {
  if (!shape) return "[any]";
  std::string s = "[";
  for (size_t i = 0; i < shape->size(); ++i) s += (i ? "," : "") + std::to_string((*shape)[i]);
  return s + "]";
}

// "x:float32[-1,512]", "voice?:string": '?' marks an optional input or output.
std::string SpecText(const protocol::TensorSpec& s) {
  return s.name + (s.optional ? "?" : "") + ":" + std::string(protocol::DTypeName(s.dtype)) +
         (protocol::IsTensor(s.dtype) ? ShapeText(s.shape) : "");
}

json SpecsJson(const std::vector<protocol::TensorSpec>& specs) {
  json out = json::array();
  for (const auto& s : specs) {
    out.push_back({{"name", s.name},
                   {"dtype", protocol::DTypeName(s.dtype)},
                   {"shape", s.shape ? json(*s.shape) : json(nullptr)},
                   {"optional", s.optional}});
  }
  return out;
}

// Sends an admin request; prints `done` when it succeeds.
int RunAdminOp(Client& client, const protocol::Request& request, const std::string& done) {
  int exit_code = 0;
  if (!Ask(client, request, &exit_code)) return exit_code;
  std::printf("%s\n", done.c_str());
  return 0;
}

// "165M" for a memory figure, "-" for none.
std::string Mebibytes(uint64_t bytes) {
  return bytes == 0 ? "-" : std::to_string((bytes + (1 << 19)) >> 20) + "M";
}

}  // namespace

int RunStatus(Client& client, const CliSettings& settings) {
  int exit_code = 0;
  auto reply = Ask(client, OpRequest(protocol::Op::kStatus), &exit_code);
  if (!reply) return exit_code;
  if (settings.json) {
    json workers = json::array();
    for (const auto& w : reply->workers) {
      workers.push_back(json(WorkerJson(w)));
    }
    json devices = json::array();
    for (const auto& d : reply->devices) devices.push_back(json(DeviceJson(d)));
    json out = {{"workers", workers}, {"devices", devices}};
    if (reply->broker) {
      out["broker"] = {{"version", reply->broker->version},
                       {"uptime_ms", reply->broker->uptime_ms}};
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (reply->broker) {
    std::printf("broker %s, up %.1f s\n", reply->broker->version.c_str(),
                reply->broker->uptime_ms / 1000.0);
  }
  std::printf("%-16s %-12s %-8s %-12s %-8s %-9s %-8s %-8s %-8s %-8s %s\n", "WORKER", "MODEL",
              "DEVICE", "STATE", "PID", "IN-FLIGHT", "SERVED", "RSS", "GPU", "RESTARTS",
              "LAST EXIT");
  for (const auto& w : reply->workers) {
    // In flight of its credit: "3/16".
    const std::string in_flight =
        std::to_string(w.in_flight) + (w.capacity > 0 ? "/" + std::to_string(w.capacity) : "");
    std::printf(
        "%-16s %-12s %-8s %-12s %-8lld %-9s %-8llu %-8s %-8s %-8u %s\n", w.id.c_str(),
        w.model.c_str(), w.device.c_str(), std::string(protocol::WorkerStatusName(w.state)).c_str(),
        static_cast<long long>(w.pid), in_flight.c_str(), static_cast<unsigned long long>(w.served),
        Mebibytes(w.rss_bytes).c_str(), Mebibytes(w.gpu_bytes).c_str(), w.restarts,
        w.last_exit.empty() ? "-" : w.last_exit.c_str());
  }
  if (reply->devices.empty()) return 0;
  std::printf("\n%-8s %-16s %s\n", "DEVICE", "RESIDENT", "MEMORY USED");
  for (const auto& d : reply->devices) {
    std::string resident = std::to_string(d.resident_models);
    if (d.max_resident_models > 0) resident += "/" + std::to_string(d.max_resident_models);
    std::string memory = Mebibytes(d.memory_used_bytes);
    if (d.memory_budget_bytes > 0) memory += "/" + Mebibytes(d.memory_budget_bytes);
    std::printf("%-8s %-16s %s\n", d.name.c_str(), resident.c_str(), memory.c_str());
  }
  return 0;
}

int RunModels(Client& client, const CliSettings& settings) {
  int exit_code = 0;
  auto reply = Ask(client, OpRequest(protocol::Op::kModels), &exit_code);
  if (!reply) return exit_code;
  const std::vector<protocol::ModelInfo>* models = &reply->models;
  if (settings.json) {
    json out = json::array();
    for (const auto& m : *models) {
      out.push_back({{"name", m.name},
                     {"state", protocol::ModelStatusName(m.state)},
                     {"workers", m.workers},
                     {"ready_workers", m.ready_workers},
                     {"queued", m.queued},
                     {"queue_size", m.queue_size},
                     {"last_error", m.last_error},
                     {"memory_bytes", m.memory_bytes},
                     {"inputs", SpecsJson(m.inputs)},
                     {"outputs", SpecsJson(m.outputs)}});
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::printf("%-16s %-12s %-8s %-6s %-10s %-8s %s\n", "MODEL", "STATE", "WORKERS", "READY",
              "QUEUED", "MEMORY", "INPUTS -> OUTPUTS");
  for (const auto& m : *models) {
    std::string io;
    for (const auto& s : m.inputs) {
      io += SpecText(s) + " ";
    }
    io += "->";
    for (const auto& s : m.outputs) {
      io += " " + SpecText(s);
    }
    const std::string queued = std::to_string(m.queued) + "/" + std::to_string(m.queue_size);
    std::printf("%-16s %-12s %-8u %-6u %-10s %-8s %s\n", m.name.c_str(),
                std::string(protocol::ModelStatusName(m.state)).c_str(), m.workers, m.ready_workers,
                queued.c_str(), Mebibytes(m.memory_bytes).c_str(), io.c_str());
    if (!m.last_error.empty()) std::printf("  last error: %s\n", m.last_error.c_str());
  }
  return 0;
}

int RunPing(Client& client, const CliSettings& settings) {
  int exit_code = 0;
  auto reply = Ask(client, OpRequest(protocol::Op::kPing), &exit_code);
  if (!reply) return exit_code;
  const auto& info = reply->broker.value_or(protocol::BrokerInfo{});
  // The broker's clock against ours: requests signed more than the broker's
  // max_clock_skew_ms away are refused. Includes half a round trip.
  const int64_t skew_ms = static_cast<int64_t>(info.time_ms) - UnixMillis();
  const protocol::Limits& l = info.limits;
  if (settings.json) {
    std::cout << json{{"version", info.version},
                      {"uptime_ms", info.uptime_ms},
                      {"time_ms", info.time_ms},
                      {"clock_skew_ms", skew_ms},
                      {"limits",
                       {{"max_message_bytes", l.max_message_bytes},
                        {"max_tensors", l.max_tensors},
                        {"max_rank", l.max_rank},
                        {"max_elements", l.max_elements},
                        {"max_depth", l.max_depth},
                        {"max_items", l.max_items}}}}
                     .dump()
              << "\n";
  } else {
    std::printf("pong: broker %s, up %.1f s, its clock %+lld ms from ours, messages up to %s\n",
                info.version.c_str(), info.uptime_ms / 1000.0, static_cast<long long>(skew_ms),
                Mebibytes(static_cast<uint64_t>(l.max_message_bytes)).c_str());
  }
  return 0;
}

// The first required input of `dtype` the model declares.
std::optional<std::string> MainInput(const std::vector<protocol::TensorSpec>& specs,
                                     protocol::DType dtype) {
  for (const auto& s : specs) {
    if (s.dtype == dtype && !s.optional) return s.name;
  }
  return std::nullopt;
}

// Adds --file and --text to the inputs, as the model's main bytes and string
// inputs, and --question as its `question`.
Status AddMainInputs(const InferArgs& args, const std::vector<protocol::TensorSpec>& specs,
                     protocol::NamedTensors& inputs) {
  if (!args.file.empty()) {
    auto name = MainInput(specs, protocol::DType::kBytes);
    if (!name)
      return InvalidRequest("model '" + args.model + "' takes no binary input: drop --file");
    std::ifstream in(args.file, std::ios::binary);
    if (!in) return InvalidRequest("cannot read " + args.file);
    inputs[*name] = {
        protocol::DType::kBytes, {}, std::string(std::istreambuf_iterator<char>(in), {})};
  }
  if (args.text) {
    auto name = MainInput(specs, protocol::DType::kString);
    if (!name) return InvalidRequest("model '" + args.model + "' takes no text input: drop --text");
    inputs[*name] = {protocol::DType::kString, {}, *args.text};
  }
  if (args.question) {
    const bool asks =
        std::any_of(specs.begin(), specs.end(), [](const auto& s) { return s.name == "question"; });
    if (!asks)
      return InvalidRequest("model '" + args.model + "' takes no question: drop --question");
    inputs["question"] = {protocol::DType::kString, {}, *args.question};
  }
  return {};
}

int RunInfer(Client& client, const InferArgs& args) {
  json inputs;
  try {
    inputs = json::parse(args.inputs_json);
  } catch (const json::exception& e) {
    return Fail(InvalidRequest(std::string("inputs are not valid JSON: ") + e.what()));
  }
  // The model's declared dtypes turn plain JSON arrays into the right tensors.
  int exit_code = 0;
  auto models = Ask(client, OpRequest(protocol::Op::kModels), &exit_code);
  if (!models) return exit_code;
  std::vector<protocol::TensorSpec> specs;
  for (const auto& m : models->models) {
    if (m.name == args.model) specs = m.inputs;
  }
  auto tensors = TensorsFromJson(inputs, specs);
  if (!tensors.ok()) return Fail(tensors.status());
  if (Status s = AddMainInputs(args, specs, *tensors); !s.ok()) return Fail(s);
  protocol::Request request = OpRequest(protocol::Op::kInfer);
  request.model = args.model;
  request.inputs = std::move(*tensors);

  std::optional<OutputFile> out;
  if (!args.out.empty()) out.emplace(args.out);
  Status written;
  const auto on_partial = [&out, &written, &args](const protocol::Reply& partial) {
    protocol::NamedTensors outputs = partial.outputs;
    if (args.stream) {  // text as it is made: the final JSON holds it all again
      for (const auto& [name, t] : outputs) {
        if (t.dtype == protocol::DType::kString) std::cerr << t.data << std::flush;
      }
      const auto step = outputs.find("step"), steps = outputs.find("steps");
      if (step != outputs.end() && steps != outputs.end()) {  // diffusion's progress
        std::cerr << "\rstep " << ValueToJson(step->second.data) << "/"
                  << ValueToJson(steps->second.data) << std::flush;
      }
    }
    if (out && written.ok()) written = out->Take(outputs);
  };
  // With --out or --stream, ask for a stream: chunks reach the file, and
  // text the terminal, as they are made.
  auto reply = out || args.stream ? client.Stream(std::move(request), on_partial)
                                  : client.Call(std::move(request));
  if (args.stream) std::cerr << "\n";
  if (!reply.ok()) return Fail(reply.status(), kExitNoReply);
  if (!reply->status.ok()) return Fail(reply->status);
  json result = {{"outputs", nullptr}};
  if (out) {
    if (written.ok()) written = out->Take(reply->outputs);
    if (written.ok()) written = out->Finish();
    if (!written.ok()) return Fail(written);
    result["file"] = {{"path", out->path()}, {"bytes", out->bytes()}, {"chunks", out->chunks()}};
  }
  result["outputs"] = TensorsToJson(reply->outputs);
  std::cout << result.dump() << "\n";
  return 0;
}

int RunRestart(Client& client, const std::string& worker, bool force) {
  protocol::Request request;
  request.op = protocol::Op::kRestart;
  request.worker = worker;
  request.force = force;
  return RunAdminOp(client, request,
                    force ? "restarting worker " + worker + " now"
                          : "restarting worker " + worker + " once its requests are done");
}

int RunDrain(Client& client, const std::string& worker) {
  protocol::Request request;
  request.op = protocol::Op::kDrain;
  request.worker = worker;
  return RunAdminOp(client, request,
                    "draining worker " + worker + "; it stays stopped until restart");
}

int RunReload(Client& client) {
  return RunAdminOp(client, OpRequest(protocol::Op::kReload),
                    "reloading: workers whose model changed restart once their requests are done");
}

int RunModelOp(Client& client, protocol::Op op, const std::string& model, uint32_t replicas) {
  protocol::Request request;
  request.op = op;
  request.model = model;
  request.replicas = replicas;
  const std::string done =
      op == protocol::Op::kLoad ? "loading model " + model
      : op == protocol::Op::kUnload
          ? "unloading model " + model + " once its requests are done; load starts it again"
          : "scaling model " + model + " to " + std::to_string(replicas) + " replicas per device";
  return RunAdminOp(client, request, done);
}

int RunKeygen(const std::string& prefix) {
  const CurveKeyPair pair = NewCurveKeyPair();
  if (Status s = WriteCurveKeyPair(prefix, pair); !s.ok()) {
    std::fprintf(stderr, "error: %s\n", s.message().c_str());
    return 2;
  }
  std::printf("%s\n", pair.public_key.c_str());
  return 0;
}

int RunBench(const std::vector<std::string>& args) {
  const auto binary =
      std::filesystem::read_symlink("/proc/self/exe").parent_path() / "botmodels-bench";
  std::vector<char*> argv{const_cast<char*>("botmodels-bench")};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execv(binary.c_str(), argv.data());
  std::cerr << "error: bench: cannot run " << binary.string() << ": " << std::strerror(errno)
            << "\n";
  return 2;
}

}  // namespace botmodels
