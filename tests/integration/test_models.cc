#include "tests/integration/test_models.h"

#include <cstring>
#include <stdexcept>
#include <utility>

#include "models/torchscript/torch_device.h"

namespace botmodels::testing {
namespace {

constexpr char kFloatIo[] =
    "\n[[inputs]]\nname = \"x\"\ndtype = \"float32\"\n"
    "[[outputs]]\nname = \"y\"\ndtype = \"float32\"\n";
constexpr char kMlpIo[] =
    "\n[[inputs]]\nname = \"x\"\ndtype = \"float32\"\nshape = [-1, 512]\n"
    "[[outputs]]\nname = \"y\"\ndtype = \"float32\"\nshape = [-1, 512]\n";

}  // namespace

// Test models run on the CPU: no device probe at broker start.
ScriptModel CpuDouble(const std::string& extra) {
  ScriptModel m = DoubleModel();
  m.toml = "devices = [\"cpu\"]\n" + extra + kFloatIo;
  return m;
}

ScriptModel CpuMlp(const std::string& extra) {
  ScriptModel m = MlpModel();
  m.toml = "devices = [\"cpu\"]\nqueue_size = 256\n" + extra + kMlpIo;
  return m;
}

ScriptModel CudaFault(const std::string& extra) {
  return {"faulty",
          "def forward(self, x):\n"
          "    assert bool(x.flatten()[0] >= 0), "
          "'CUDA error: an illegal memory access was encountered'\n"
          "    return x * 2\n",
          {},
          "devices = [\"cpu\"]\n" + extra + kFloatIo};
}

ScriptModel Slow(const std::string& extra) {
  constexpr int64_t kWidth = 64;
  torch::manual_seed(7);
  return {"slow",
          "def forward(self, x, iters):\n"
          "    y = x\n"
          "    for _ in range(int(iters[0])):\n"
          "        y = torch.tanh(torch.matmul(y, self.w))\n"
          "    return y\n",
          {{"w", torch::randn({kWidth, kWidth}) / 8}},
          "devices = [\"cpu\"]\n" + extra +
              "\n[[inputs]]\nname = \"x\"\ndtype = \"float32\"\nshape = [-1, 64]\n"
              "[[inputs]]\nname = \"iters\"\ndtype = \"int64\"\nshape = [1]\n"
              "[[outputs]]\nname = \"y\"\ndtype = \"float32\"\nshape = [-1, 64]\n"};
}

torch::jit::Module LoadAsCpuWorker(const std::string& path) {
  TorchDevice device("cpu", "reference");
  if (Status opened = device.Open(0); !opened.ok()) throw std::runtime_error(opened.message());
  auto module = device.Load(path);
  if (!module.ok()) throw std::runtime_error(module.status().message());
  return std::move(*module);
}

}  // namespace botmodels::testing

namespace botmodels::testing {

protocol::NamedTensors SlowInputs(int64_t iters) {
  protocol::Tensor x{protocol::DType::kFloat32, {1, 64}, std::string(64 * 4, '\0')};
  protocol::Tensor n{protocol::DType::kInt64, {1}, std::string(8, '\0')};
  std::memcpy(n.data.data(), &iters, 8);
  return {{"x", x}, {"iters", n}};
}

protocol::Request SlowRequest(int64_t iters, std::optional<uint32_t> timeout_ms) {
  protocol::Request r;
  r.op = protocol::Op::kInfer;
  r.model = "slow";
  r.inputs = SlowInputs(iters);
  r.timeout_ms = timeout_ms;
  return r;
}

int64_t CalibrateSlow(Client& client, std::chrono::milliseconds target) {
  // The first request loads and warms the model up: keep it out of the timing.
  if (!client.Infer("slow", SlowInputs(1)).ok()) return 1;
  int64_t iters = 1000;
  while (true) {
    const auto start = std::chrono::steady_clock::now();
    if (!client.Infer("slow", SlowInputs(iters)).ok()) return iters;
    const auto took = std::chrono::steady_clock::now() - start;
    if (took >= std::chrono::milliseconds(100)) {
      return static_cast<int64_t>(static_cast<double>(iters) * target / took) + 1;
    }
    iters *= 4;
  }
}

}  // namespace botmodels::testing
