#pragma once

#include <span>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/toml_reader.h"
#include "models/registry/backend_kind.h"
#include "models/spec/backend_specs.h"
#include "models/spec/family_options.h"

namespace botmodels {

// Which executable serves a family's models: the two never share a process,
// so that native workers start without libtorch.
enum class WorkerExecutable {
  kTorch,   // botmodels-worker: libtorch (TorchScript models and the pipelines)
  kNative,  // botmodels-worker-native: native libraries, or nothing (identity)
};

// Where a family's model lives on disk.
enum class ModelFiles {
  kModelFile,  // `file` in model.toml (torchscript)
  kParts,      // the *.pt parts in its folder, named by its [options] (the pipelines)
  kNone,       // nothing (identity, and the native libraries with their Debian data)
};

// What the broker, the workers and the gateway know of a family without
// linking its libraries: one row of the registry.
struct ModelFamily {
  BackendKind kind;
  std::string_view name;  // `backend` in model.toml
  WorkerExecutable worker;
  ModelFiles files;
  bool cpu_only;  // a native library: devices may only be "cpu" or "auto"
  // Reads its [options] table: only its keys, each range-checked; errors
  // name the file, line and field.
  Result<FamilyOptions> (*read_options)(const TomlReader& options);
  // Its own inputs and outputs; null when model.toml declares them
  // ([[inputs]] and [[outputs]]: torchscript, identity).
  BackendSpecs (*specs)();
};

// Every family, in BackendKind's order.
std::span<const ModelFamily> ModelFamilies();
const ModelFamily& FamilyOf(BackendKind kind);
// The family whose `backend` name is `name`; null when none is.
const ModelFamily* FindFamily(std::string_view name);
std::string_view BackendName(BackendKind kind);
// "torchscript, identity, ocr, ...": for error messages.
std::string BackendNames();

}  // namespace botmodels
