#pragma once

#include <torch/script.h>

#include <map>
#include <string>

namespace botmodels {

// A TorchScript model written by our own code: no Python, no downloads.
struct ScriptModel {
  std::string name;
  std::string source;  // TorchScript methods, at least `def forward(self, ...)`
  std::map<std::string, torch::Tensor> parameters;  // self.<name> inside `source`
  std::string toml;                                 // the model.toml text
};

// Compiles `source` (TorchScript methods) over `parameters` and saves the
// module to `path`. Throws on script or I/O errors.
void SaveScript(const std::string& path, const std::string& source,
                const std::map<std::string, torch::Tensor>& parameters);

// Writes <repository>/<name>/model.pt and model.toml. Throws on script or I/O errors.
void WriteScriptModel(const std::string& repository, const ScriptModel& model);

// The demo models, fixed-seeded so every build writes the same weights.
ScriptModel DoubleModel();  // y = x * 2, float32 of any shape
ScriptModel MlpModel();     // float32 [-1, 512] -> Linear-ReLU-Linear -> [-1, 512]

}  // namespace botmodels
