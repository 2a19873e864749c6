#pragma once

#include <torch/script.h>

#include <string>
#include <vector>

#include "common/status.h"

namespace botmodels {

// precision = "int8" at load, for any TorchScript module: freezes `module`
// (its weights become constants; those of `methods` it has are kept, and
// forward), then runs every aten::linear whose weight is then a constant as
// botmodels::linear_int8: the weight int8 per output channel (symmetric,
// its largest magnitude at 127), the activations quantized per call, as
// torch.ao.quantization.quantize_dynamic does to nn.Linear, without Python.
// Up to 16 rows (a decoder step) it runs int8_rows.h, bound by memory;
// past that libtorch's quantized::linear_dynamic on the fastest quantized
// engine this libtorch has (x86, FBGEMM, oneDNN, then QNNPACK), bound by
// arithmetic. model_load_failed when it has none. Returns the frozen module
// and how many layers it quantized.
struct Int8Module {
  torch::jit::Module module;
  int quantized_layers = 0;
};
Result<Int8Module> QuantizeLinearInt8(const torch::jit::Module& module,
                                      const std::vector<std::string>& methods);

}  // namespace botmodels
