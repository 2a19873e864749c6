#pragma once

#include <optional>
#include <string_view>

#include "common/status.h"

namespace botmodels {

// model.toml's `precision` for the libtorch backends (docs/models.md#precision):
// fp32 (the default); int8, dynamic quantization of every Linear layer on
// the CPU (weights int8 per output channel, activations quantized per call);
// fp16 or bf16, the model's floating weights and inputs in half precision on
// CUDA.
enum class Precision { kFp32, kInt8, kFp16, kBf16 };

std::optional<Precision> ParsePrecision(std::string_view name);  // "fp32", "int8", "fp16", "bf16"
std::string_view PrecisionName(Precision precision);

// OK when `precision` runs on the device (`cuda`: a CUDA device, else the
// CPU); model_load_failed saying what does otherwise: int8 on CUDA, fp16 or
// bf16 on the CPU.
Status CheckPrecision(Precision precision, bool cuda, std::string_view device);

}  // namespace botmodels
