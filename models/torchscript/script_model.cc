#include "models/torchscript/script_model.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace botmodels {

void SaveScript(const std::string& path, const std::string& source,
                const std::map<std::string, torch::Tensor>& parameters) {
  torch::jit::Module module("botmodels");
  for (const auto& [name, tensor] : parameters) {
    module.register_parameter(name, tensor, /*requires_grad=*/false);
  }
  module.define(source);
  module.save(path);
}

void WriteScriptModel(const std::string& repository, const ScriptModel& model) {
  const std::filesystem::path dir = std::filesystem::path(repository) / model.name;
  std::filesystem::create_directories(dir);
  SaveScript((dir / "model.pt").string(), model.source, model.parameters);
  std::ofstream toml(dir / "model.toml");
  toml << model.toml;
  if (!toml) throw std::runtime_error("cannot write " + (dir / "model.toml").string());
}

ScriptModel DoubleModel() {
  return {"double",
          "def forward(self, x):\n"
          "    return x * 2\n",
          {},
          "# Demo: y = 2x for a float32 tensor of any shape.\n"
          "devices = [\"auto\"]\n"
          "preload = true\n"
          "# A burst of a few hundred requests queues instead of getting `overloaded`.\n"
          "queue_size = 1024\n"
          "# max_inflight left unset: a forward takes microseconds, so the worker\n"
          "# raises its credit to 16 (docs/models.md, \"The credit\").\n"
          "\n"
          "[[inputs]]\n"
          "name = \"x\"\n"
          "dtype = \"float32\"\n"
          "\n"
          "[[outputs]]\n"
          "name = \"y\"\n"
          "dtype = \"float32\"\n"};
}

ScriptModel MlpModel() {
  constexpr int64_t kWidth = 512;
  constexpr uint64_t kSeed = 20261125;  // any fixed value: same weights on every build
  torch::manual_seed(kSeed);
  const double scale = 1.0 / std::sqrt(static_cast<double>(kWidth));  // keeps activations O(1)
  ScriptModel m;
  m.name = "mlp";
  // Weights are stored [in, out], so addmm computes x W + b (Linear's x Wᵀ + b).
  m.parameters = {{"w1", torch::randn({kWidth, kWidth}) * scale},
                  {"b1", torch::randn({kWidth}) * scale},
                  {"w2", torch::randn({kWidth, kWidth}) * scale},
                  {"b2", torch::randn({kWidth}) * scale}};
  m.source =
      "def forward(self, x):\n"
      "    h = torch.relu(torch.addmm(self.b1, x, self.w1))\n"
      "    return torch.addmm(self.b2, h, self.w2)\n";
  m.toml =
      "# Demo: a two-layer perceptron, float32 [batch, 512] -> [batch, 512].\n"
      "devices = [\"auto\"]\n"
      "# A burst of a few hundred requests queues instead of getting `overloaded`.\n"
      "queue_size = 1024\n"
      "# Rows are independent: requests waiting together run as one forward.\n"
      "max_batch_size = 64\n"
      "\n"
      "[[inputs]]\n"
      "name = \"x\"\n"
      "dtype = \"float32\"\n"
      "shape = [-1, 512]\n"
      "\n"
      "[[outputs]]\n"
      "name = \"y\"\n"
      "dtype = \"float32\"\n"
      "shape = [-1, 512]\n";
  return m;
}

}  // namespace botmodels
