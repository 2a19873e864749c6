#include "models/registry/precision.h"

#include <string>

namespace botmodels {

std::optional<Precision> ParsePrecision(std::string_view name) {
  if (name == "fp32") return Precision::kFp32;
  if (name == "int8") return Precision::kInt8;
  if (name == "fp16") return Precision::kFp16;
  if (name == "bf16") return Precision::kBf16;
  return std::nullopt;
}

std::string_view PrecisionName(Precision precision) {
  switch (precision) {
    case Precision::kFp32:
      return "fp32";
    case Precision::kInt8:
      return "int8";
    case Precision::kFp16:
      return "fp16";
    case Precision::kBf16:
      return "bf16";
  }
  return "fp32";
}

Status CheckPrecision(Precision precision, bool cuda, std::string_view device) {
  const std::string name(PrecisionName(precision));
  if (precision == Precision::kInt8 && cuda) {
    return Status(ErrorCode::kModelLoadFailed,
                  "precision int8 (dynamic quantization) runs on the CPU, not on " +
                      std::string(device) + ": on CUDA use fp16 or bf16");
  }
  if ((precision == Precision::kFp16 || precision == Precision::kBf16) && !cuda) {
    return Status(ErrorCode::kModelLoadFailed, "precision " + name + " runs on CUDA, not on " +
                                                   std::string(device) +
                                                   ": on the CPU use fp32 or int8");
  }
  return {};
}

}  // namespace botmodels
