#include "models/registry/model_config.h"

#include <sched.h>

#include <algorithm>
#include <filesystem>

#include "common/toml_reader.h"
#include "models/registry/model_families.h"

namespace botmodels {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kMaxReplicas = 256;     // per device; far above any real host
constexpr int64_t kMaxQueue = 1'000'000;  // requests; bounded memory in the broker
constexpr int64_t kMaxInflight = 4096;    // per worker
constexpr int64_t kMaxThreads = 1024;
constexpr int64_t kMaxRank = 16;
constexpr int kMaxCudaIndex = 127;                     // libtorch's device index is an int8_t
constexpr int64_t kMaxTimeoutMs = 24LL * 3600 * 1000;  // one day
constexpr double kMaxIdleUnloadS = 7 * 24 * 3600;      // a week: longer is never
constexpr int64_t kMaxBatch = 65536;                   // rows per forward
constexpr int64_t kMaxQueueDelayUs = 10'000'000;       // 10 s: longer is a timeout, not a delay

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

Result<std::vector<protocol::TensorSpec>> ReadSpecs(const TomlReader& model, std::string_view key,
                                                    bool allow_empty) {
  auto tables = model.TableArray(key);
  if (!tables.ok()) return tables.status();
  if (tables->empty() && !allow_empty) {
    return model.Error(key, "declare at least one ([[" + std::string(key) + "]])");
  }
  std::vector<protocol::TensorSpec> specs;
  for (const TomlReader& t : *tables) {
    if (Status s = t.RejectUnknown({"name", "dtype", "shape", "optional"}); !s.ok()) return s;
    protocol::TensorSpec spec;
    std::string dtype;
    if (Status s = t.String("name", &spec.name, true); !s.ok()) return s;
    if (Status s = t.String("dtype", &dtype, true); !s.ok()) return s;
    auto parsed = protocol::ParseDType(dtype);
    if (!parsed) return t.Error("dtype", "unknown dtype '" + dtype + "'");
    spec.dtype = *parsed;
    if (Status s = t.Bool("optional", &spec.optional); !s.ok()) return s;
    if (protocol::IsTensor(spec.dtype) && t.Has("shape")) {
      spec.shape.emplace();
      if (Status s = t.IntList("shape", &*spec.shape); !s.ok()) return s;
      if (static_cast<int64_t>(spec.shape->size()) > kMaxRank) {
        return t.Error("shape", "rank above " + std::to_string(kMaxRank));
      }
      for (int64_t d : *spec.shape) {
        if (d < -1) return t.Error("shape", "dims are >= 0, or -1 for a free dim");
      }
    }
    for (const auto& other : specs) {
      if (other.name == spec.name) return t.Error("name", "'" + spec.name + "' declared twice");
    }
    specs.push_back(std::move(spec));
  }
  return specs;
}

// Batching concatenates inputs along dim 0 and splits outputs along it.
Status CheckBatchable(const TomlReader& r, const ModelConfig& c) {
  for (const auto& spec : c.inputs) {
    if (!protocol::IsTensor(spec.dtype) || !spec.shape || spec.shape->empty() ||
        spec.shape->front() != -1) {
      return r.Error("max_batch_size",
                     "batching needs every input to be a tensor whose shape "
                     "starts with a free dim (-1); input '" +
                         spec.name + "' is not");
    }
  }
  for (const auto& spec : c.outputs) {
    if (!protocol::IsTensor(spec.dtype)) {
      return r.Error("max_batch_size",
                     "batching needs every output to be a tensor; '" + spec.name + "' is not");
    }
  }
  return {};
}

}  // namespace

bool IsValidDevice(const std::string& device) {
  if (device == "auto" || device == "cpu" || device == "cuda") return true;
  if (device.rfind("cuda:", 0) != 0 || device.size() == 5 || device.size() > 8) return false;
  const bool digits =
      std::all_of(device.begin() + 5, device.end(), [](char c) { return c >= '0' && c <= '9'; });
  return digits && std::stoi(device.substr(5)) <= kMaxCudaIndex;
}

Status ModelConfig::CheckInputs(const protocol::TensorViews& given) const {
  for (const auto& entry : given) {
    const std::string& name = entry.first;  // a plain reference: clang 14 cannot capture bindings
    const bool declared = std::any_of(inputs.begin(), inputs.end(),
                                      [&](const auto& spec) { return spec.name == name; });
    if (!declared) return InvalidRequest("model '" + this->name + "' has no input '" + name + "'");
  }
  for (const auto& spec : inputs) {
    auto it = given.find(spec.name);
    if (it == given.end()) {
      if (spec.optional) continue;
      return InvalidRequest("input '" + spec.name + "' is missing");
    }
    const protocol::TensorView& t = it->second;
    if (t.dtype != spec.dtype) {
      return InvalidRequest("input '" + spec.name + "': dtype " +
                            std::string(protocol::DTypeName(t.dtype)) + ", model expects " +
                            std::string(protocol::DTypeName(spec.dtype)));
    }
    if (!spec.shape) continue;
    const auto& want = *spec.shape;
    bool fits = t.shape.size() == want.size();
    for (size_t i = 0; fits && i < want.size(); ++i) {
      fits = want[i] == -1 || want[i] == t.shape[i];
    }
    if (!fits) {
      return InvalidRequest("input '" + spec.name + "': shape " + ShapeText(t.shape) +
                            ", model expects " + ShapeText(want) + " (-1: any size)");
    }
  }
  return {};
}

namespace {

// A pipeline's parts, as one version: the size and modification time of
// every file in its folder, so that a re-exported part counts as a new model.
std::string PartsVersion(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    const auto mtime = entry.last_write_time(ec).time_since_epoch().count();
    files.push_back(entry.path().filename().string() + ":" + std::to_string(entry.file_size(ec)) +
                    "@" + std::to_string(mtime));
  }
  std::sort(files.begin(), files.end());
  std::string version;
  for (const auto& f : files) version += f + ";";
  return version;
}

}  // namespace

Result<ModelConfig> LoadModelConfig(const std::string& dir) {
  const std::string path = dir + "/model.toml";
  auto table = ParseTomlFile(path);
  if (!table.ok()) return table.status();
  TomlReader r(path, *table);
  if (Status s = r.RejectUnknown(
          {"name",          "backend",         "file",           "devices",
           "replicas",      "queue_size",      "timeout_ms",     "preload",
           "idle_unload_s", "memory_limit_mb", "memory_mb",      "gpu_memory_fraction",
           "cpu_affinity",  "max_inflight",    "max_batch_size", "max_queue_delay_us",
           "threads",       "precision",       "inputs",         "outputs",
           "options"});
      !s.ok()) {
    return s;
  }
  ModelConfig c;
  c.dir = fs::absolute(dir).lexically_normal().string();
  if (!c.dir.empty() && c.dir.back() == '/') c.dir.pop_back();
  c.name = fs::path(c.dir).filename().string();
  std::string declared_name = c.name, backend = "torchscript", precision = "fp32";
  double idle_unload_s = 0;
  int64_t replicas = c.replicas, queue = c.queue_size, timeout = c.timeout.count(), memory = 0,
          footprint = 0, inflight = c.max_inflight, threads = c.threads, batch = 0, delay_us = 0;
  for (Status s :
       {r.String("name", &declared_name), r.String("backend", &backend), r.String("file", &c.file),
        r.StringList("devices", &c.devices), r.Int("replicas", &replicas, 1, kMaxReplicas),
        r.Int("queue_size", &queue, 1, kMaxQueue), r.Int("timeout_ms", &timeout, 0, kMaxTimeoutMs),
        r.Bool("preload", &c.preload),
        r.Number("idle_unload_s", &idle_unload_s, 0, kMaxIdleUnloadS),
        r.Int("memory_limit_mb", &memory, 0, INT32_MAX),
        r.Int("memory_mb", &footprint, 0, INT32_MAX),
        r.Number("gpu_memory_fraction", &c.gpu_memory_fraction, 0, 1),
        r.IntList("cpu_affinity", &c.cpu_affinity),
        r.Int("max_inflight", &inflight, 1, kMaxInflight),
        r.Int("max_batch_size", &batch, 0, kMaxBatch),
        r.Int("max_queue_delay_us", &delay_us, 0, kMaxQueueDelayUs),
        r.Int("threads", &threads, 0, kMaxThreads), r.String("precision", &precision)}) {
    if (!s.ok()) return s;
  }
  c.idle_unload = std::chrono::milliseconds(static_cast<int64_t>(idle_unload_s * 1000));
  if (declared_name != c.name) {
    return r.Error("name", "'" + declared_name + "' differs from the folder name '" + c.name + "'");
  }
  const ModelFamily* family = FindFamily(backend);
  if (family == nullptr) {
    return r.Error("backend", "'" + backend + "' is not one of " + BackendNames());
  }
  c.backend = family->kind;
  const auto parsed_precision = ParsePrecision(precision);
  if (!parsed_precision) {
    return r.Error("precision", "'" + precision + "' is not fp32, int8, fp16 or bf16");
  }
  c.precision = *parsed_precision;
  const bool any_precision = c.backend == BackendKind::kTorchScript ||
                             c.backend == BackendKind::kWhisper ||
                             c.backend == BackendKind::kCaption;
  if (c.precision != Precision::kFp32 && !any_precision) {
    return r.Error("precision", "the " + backend +
                                    " backend runs in fp32 only (precision: torchscript, whisper "
                                    "and caption)");
  }
  auto options_table = r.Table("options");
  if (!options_table.ok()) return options_table.status();
  auto options = family->read_options(*options_table);
  if (!options.ok()) return options.status();
  c.options = std::move(*options);
  for (int64_t cpu : c.cpu_affinity) {
    if (cpu < 0 || cpu >= CPU_SETSIZE) {
      return r.Error("cpu_affinity", "core " + std::to_string(cpu) + " does not exist");
    }
  }
  if (c.devices.empty()) return r.Error("devices", "list at least one device");
  for (const auto& d : c.devices) {
    if (!IsValidDevice(d)) {
      return r.Error("devices", "'" + d + "' is not auto, cpu, cuda or cuda:N (N up to " +
                                    std::to_string(kMaxCudaIndex) + ")");
    }
  }
  c.replicas = static_cast<uint32_t>(replicas);
  c.queue_size = static_cast<uint32_t>(queue);
  c.timeout = std::chrono::milliseconds(timeout);
  c.memory_limit_mb = static_cast<uint64_t>(memory);
  c.memory_mb = static_cast<uint64_t>(footprint);
  c.max_batch_size = static_cast<uint32_t>(batch);
  c.max_queue_delay = std::chrono::microseconds(delay_us);
  c.max_inflight =
      static_cast<uint32_t>(r.Has("max_inflight") || !c.batching() ? inflight : 2 * batch);
  c.credit_adapts = !r.Has("max_inflight") && !c.batching();
  c.threads = static_cast<uint32_t>(threads);
  const std::string name(family->name);
  for (const auto& d : c.devices) {
    if (family->cpu_only && d != "auto" && d != "cpu") {
      return r.Error("devices",
                     "the " + name + " backend runs on the CPU: list \"cpu\" (or \"auto\")");
    }
  }
  if (family->specs != nullptr) {
    for (std::string_view key : {"inputs", "outputs", "file", "max_batch_size"}) {
      if (r.Has(key)) {
        return r.Error(
            key, "the " + name + " backend declares its own inputs and outputs and needs no file");
      }
    }
    BackendSpecs specs = family->specs();
    c.inputs = std::move(specs.inputs);
    c.outputs = std::move(specs.outputs);
    c.file.clear();
    if (family->files == ModelFiles::kParts) c.file_version = PartsVersion(c.dir);
    return c;
  }
  auto inputs = ReadSpecs(r, "inputs", false);
  if (!inputs.ok()) return inputs.status();
  auto outputs = ReadSpecs(r, "outputs", false);
  if (!outputs.ok()) return outputs.status();
  c.inputs = std::move(*inputs);
  c.outputs = std::move(*outputs);
  for (const auto* specs : {&c.inputs, &c.outputs}) {
    for (const auto& spec : *specs) {
      if (c.backend == BackendKind::kTorchScript && spec.dtype == protocol::DType::kValue) {
        const char* key = specs == &c.inputs ? "inputs" : "outputs";
        return r.Error(key, "a torchscript model takes tensors, strings and bytes, not 'value' ('" +
                                spec.name + "')");
      }
    }
  }
  if (c.batching()) {
    if (Status s = CheckBatchable(r, c); !s.ok()) return s;
  }
  if (c.backend == BackendKind::kIdentity && c.outputs.size() != c.inputs.size()) {
    return r.Error("outputs", "the identity backend returns its inputs: declare as many outputs");
  }
  if (family->files == ModelFiles::kModelFile) {
    std::error_code ec;
    if (!fs::is_regular_file(c.model_path(), ec)) {
      return r.Error("file", "model file " + c.model_path() + " does not exist");
    }
    const auto size = fs::file_size(c.model_path(), ec);
    const auto mtime = fs::last_write_time(c.model_path(), ec).time_since_epoch().count();
    c.file_version = std::to_string(size) + "@" + std::to_string(mtime);
  }
  return c;
}

Result<std::vector<ModelConfig>> LoadRepository(const std::string& repository,
                                                const std::vector<std::string>& names) {
  std::error_code ec;
  if (!fs::is_directory(repository, ec)) {
    return InvalidRequest("model repository " + repository + " is not a folder");
  }
  std::vector<std::string> wanted = names;
  if (wanted.empty()) {
    for (const auto& entry : fs::directory_iterator(repository)) {
      if (fs::is_regular_file(entry.path() / "model.toml")) {
        wanted.push_back(entry.path().filename().string());
      }
    }
  }
  std::sort(wanted.begin(), wanted.end());
  std::vector<ModelConfig> models;
  for (const auto& name : wanted) {
    if (name.empty() || name.find('/') != std::string::npos || name[0] == '.') {
      return InvalidRequest("'" + name + "' is not a model name");
    }
    const std::string dir = repository + "/" + name;
    if (!fs::is_regular_file(dir + "/model.toml")) {
      return InvalidRequest("model '" + name + "': " + dir + "/model.toml does not exist");
    }
    auto model = LoadModelConfig(dir);
    if (!model.ok()) return model.status();
    models.push_back(std::move(*model));
  }
  if (models.empty()) return InvalidRequest("model repository " + repository + " holds no model");
  return models;
}

}  // namespace botmodels
