#include "models/registry/model_families.h"

#include <array>

#include "models/diffusion/diffusion_spec.h"
#include "models/pipelines/caption_spec.h"
#include "models/pipelines/whisper_spec.h"
#include "models/speech/stt_spec.h"
#include "models/speech/tts_spec.h"
#include "models/vision/barcode_spec.h"
#include "models/vision/ocr_spec.h"
#include "models/vision/qrcode_spec.h"

namespace botmodels {
namespace {

// A family's reader, as the registry holds it.
template <class Options, Result<Options> (*Read)(const TomlReader&)>
Result<FamilyOptions> Erase(const TomlReader& r) {
  auto options = Read(r);
  if (!options.ok()) return options.status();
  return FamilyOptions(std::move(*options));
}

// TorchScript and identity take no [options].
Result<FamilyOptions> NoOptions(const TomlReader& r) {
  BOTMODELS_RETURN_IF_ERROR(r.RejectUnknown({}));
  return FamilyOptions();
}

Result<DiffusionOptions> ReadImageDiffusion(const TomlReader& r) {
  return ReadDiffusionOptions(r, false);
}
Result<DiffusionOptions> ReadVideoDiffusion(const TomlReader& r) {
  return ReadDiffusionOptions(r, true);
}

using enum WorkerExecutable;
using enum ModelFiles;
using K = BackendKind;

// The registry: one row per family, in BackendKind's order. Columns: kind, name,
// worker executable, files, CPU only, [options] reader, declared inputs and outputs.
constexpr std::array<ModelFamily, 11> kFamilies{{
    {K::kTorchScript, "torchscript", kTorch, kModelFile, false, NoOptions, nullptr},
    {K::kIdentity, "identity", kNative, kNone, false, NoOptions, nullptr},
    {K::kOcr, "ocr", kNative, kNone, true, Erase<OcrOptions, ReadOcrOptions>, OcrSpecs},
    {K::kBarcode, "barcode", kNative, kNone, true, Erase<BarcodeOptions, ReadBarcodeOptions>,
     BarcodeSpecs},
    {K::kQrCode, "qrcode", kNative, kNone, true, Erase<QrOptions, ReadQrOptions>, QrSpecs},
    {K::kTts, "tts", kNative, kNone, true, Erase<TtsOptions, ReadTtsOptions>, TtsSpecs},
    {K::kStt, "stt", kNative, kNone, true, Erase<SttOptions, ReadSttOptions>, SttSpecs},
    {K::kWhisper, "whisper", kTorch, kParts, false, Erase<WhisperOptions, ReadWhisperOptions>,
     WhisperSpecs},
    {K::kCaption, "caption", kTorch, kParts, false, Erase<CaptionOptions, ReadCaptionOptions>,
     CaptionSpecs},
    {K::kDiffusion, "diffusion", kTorch, kParts, false, Erase<DiffusionOptions, ReadImageDiffusion>,
     [] { return DiffusionSpecs(false); }},
    {K::kVideoDiffusion, "video_diffusion", kTorch, kParts, false,
     Erase<DiffusionOptions, ReadVideoDiffusion>, [] { return DiffusionSpecs(true); }},
}};

constexpr bool InKindOrder() {
  for (size_t i = 0; i < kFamilies.size(); ++i) {
    if (static_cast<size_t>(kFamilies[i].kind) != i) return false;
  }
  return true;
}
static_assert(InKindOrder(), "one row per BackendKind, in its order: FamilyOf indexes them");

}  // namespace

std::span<const ModelFamily> ModelFamilies() { return kFamilies; }

const ModelFamily& FamilyOf(BackendKind kind) { return kFamilies[static_cast<size_t>(kind)]; }

const ModelFamily* FindFamily(std::string_view name) {
  for (const auto& family : kFamilies) {
    if (family.name == name) return &family;
  }
  return nullptr;
}

std::string_view BackendName(BackendKind kind) { return FamilyOf(kind).name; }

std::string BackendNames() {
  std::string names;
  for (const auto& family : kFamilies) {
    names += (names.empty() ? "" : ", ") + std::string(family.name);
  }
  return names;
}

}  // namespace botmodels
