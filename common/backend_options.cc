#include "common/backend_options.h"

#include <array>
#include <utility>

namespace botmodels {
namespace {

using protocol::DType;
using protocol::TensorSpec;

constexpr std::array<std::pair<BackendKind, std::string_view>, 7> kBackendNames{{
    {BackendKind::kTorchScript, "torchscript"},
    {BackendKind::kIdentity, "identity"},
    {BackendKind::kOcr, "ocr"},
    {BackendKind::kBarcode, "barcode"},
    {BackendKind::kQrCode, "qrcode"},
    {BackendKind::kTts, "tts"},
    {BackendKind::kStt, "stt"},
}};

constexpr int64_t kMaxPixelsCap = int64_t{1} << 31;  // 2 GP: 8 GiB of RGBA, past any real image
constexpr int kMaxPsm = 13;                          // tesseract::PSM_RAW_LINE
constexpr int64_t kMaxQrSide = 16384;                // px: 256 MP, far past any screen or print
constexpr int kMaxQrBytes = 2953;                    // version 40, level L, byte mode
constexpr int64_t kMaxTtsText = 10'000'000;          // 10 MB: a whole book
constexpr double kMaxRate = 4;                       // faster is not speech any more
constexpr double kMaxSttSeconds = 4 * 3600;          // a long meeting

TensorSpec Spec(std::string name, DType dtype, bool optional = false) {
  TensorSpec spec{std::move(name), dtype, std::nullopt};
  spec.optional = optional;
  return spec;
}

Status ReadImage(const TomlReader& r, ImageOptions* o) {
  int64_t pixels = static_cast<int64_t>(o->max_pixels);
  BOTMODELS_RETURN_IF_ERROR(r.Int("max_pixels", &pixels, 1, kMaxPixelsCap));
  o->max_pixels = static_cast<uint64_t>(pixels);
  return {};
}

Status ReadOcr(const TomlReader& r, BackendOptions* o) {
  BOTMODELS_RETURN_IF_ERROR(r.RejectUnknown({"language", "psm", "tessdata", "max_pixels"}));
  int64_t psm = o->ocr.psm;
  BOTMODELS_RETURN_IF_ERROR(r.String("language", &o->ocr.language));
  BOTMODELS_RETURN_IF_ERROR(r.Int("psm", &psm, 0, kMaxPsm));
  BOTMODELS_RETURN_IF_ERROR(r.String("tessdata", &o->ocr.tessdata));
  if (o->ocr.language.empty()) return r.Error("language", "name a language, e.g. \"eng\"");
  o->ocr.psm = static_cast<int>(psm);
  return ReadImage(r, &o->image);
}

Status ReadQr(const TomlReader& r, QrOptions* o) {
  BOTMODELS_RETURN_IF_ERROR(r.RejectUnknown({"ec_level", "size", "max_size", "max_text_bytes"}));
  int64_t size = o->size, max_size = o->max_size, max_text = o->max_text_bytes;
  BOTMODELS_RETURN_IF_ERROR(r.String("ec_level", &o->ec_level));
  BOTMODELS_RETURN_IF_ERROR(r.Int("max_size", &max_size, 21, kMaxQrSide));
  BOTMODELS_RETURN_IF_ERROR(r.Int("size", &size, 21, max_size));
  BOTMODELS_RETURN_IF_ERROR(r.Int("max_text_bytes", &max_text, 1, kMaxQrBytes));
  if (o->ec_level != "L" && o->ec_level != "M" && o->ec_level != "Q" && o->ec_level != "H") {
    return r.Error("ec_level", "'" + o->ec_level + "' is not L, M, Q or H");
  }
  o->size = static_cast<int>(size);
  o->max_size = static_cast<int>(max_size);
  o->max_text_bytes = static_cast<int>(max_text);
  return {};
}

Status ReadTts(const TomlReader& r, TtsOptions* o) {
  BOTMODELS_RETURN_IF_ERROR(r.RejectUnknown({"voice", "rate", "max_text_bytes", "espeak_data"}));
  int64_t max_text = static_cast<int64_t>(o->max_text_bytes);
  BOTMODELS_RETURN_IF_ERROR(r.String("voice", &o->voice));
  BOTMODELS_RETURN_IF_ERROR(r.Number("rate", &o->rate, 1 / kMaxRate, kMaxRate));
  BOTMODELS_RETURN_IF_ERROR(r.Int("max_text_bytes", &max_text, 1, kMaxTtsText));
  BOTMODELS_RETURN_IF_ERROR(r.String("espeak_data", &o->espeak_data));
  if (o->voice.empty()) return r.Error("voice", "name a voice, e.g. \"slt\" or \"de\"");
  o->max_text_bytes = static_cast<uint64_t>(max_text);
  return {};
}

Status ReadStt(const TomlReader& r, SttOptions* o) {
  BOTMODELS_RETURN_IF_ERROR(r.RejectUnknown({"model_dir", "max_seconds"}));
  BOTMODELS_RETURN_IF_ERROR(r.String("model_dir", &o->model_dir));
  return r.Number("max_seconds", &o->max_seconds, 1, kMaxSttSeconds);
}

}  // namespace

std::string_view BackendName(BackendKind kind) {
  for (const auto& [k, name] : kBackendNames) {
    if (k == kind) return name;
  }
  return "torchscript";
}

std::optional<BackendKind> ParseBackend(std::string_view name) {
  for (const auto& [kind, n] : kBackendNames) {
    if (n == name) return kind;
  }
  return std::nullopt;
}

Result<BackendOptions> ReadBackendOptions(const TomlReader& r, BackendKind kind) {
  BackendOptions o;
  Status s;
  switch (kind) {
    case BackendKind::kTorchScript:
    case BackendKind::kIdentity:
      s = r.RejectUnknown({});
      break;
    case BackendKind::kOcr:
      s = ReadOcr(r, &o);
      break;
    case BackendKind::kBarcode:
      s = r.RejectUnknown({"max_pixels"});
      if (s.ok()) s = ReadImage(r, &o.image);
      break;
    case BackendKind::kQrCode:
      s = ReadQr(r, &o.qr);
      break;
    case BackendKind::kTts:
      s = ReadTts(r, &o.tts);
      break;
    case BackendKind::kStt:
      s = ReadStt(r, &o.stt);
      break;
  }
  if (!s.ok()) return s;
  return o;
}

BackendSpecs NativeSpecs(BackendKind kind) {
  switch (kind) {
    case BackendKind::kOcr:
      return {{Spec("image", DType::kBytes), Spec("language", DType::kString, true),
               Spec("psm", DType::kValue, true)},
              {Spec("text", DType::kString), Spec("confidence", DType::kValue),
               Spec("words", DType::kValue), Spec("language", DType::kString),
               Spec("image", DType::kValue)}};
    case BackendKind::kBarcode:
      return {{Spec("image", DType::kBytes)},
              {Spec("codes", DType::kValue), Spec("image", DType::kValue)}};
    case BackendKind::kQrCode:
      return {{Spec("text", DType::kString), Spec("ec_level", DType::kString, true),
               Spec("size", DType::kValue, true)},
              {Spec("image", DType::kBytes)}};
    case BackendKind::kTts:
      return {{Spec("text", DType::kString), Spec("voice", DType::kString, true),
               Spec("language", DType::kString, true), Spec("rate", DType::kValue, true)},
              {Spec("audio", DType::kBytes, true), Spec("pcm", DType::kBytes, true),
               Spec("sample_rate", DType::kValue), Spec("voice", DType::kString, true)}};
    case BackendKind::kStt:
      return {{Spec("audio", DType::kBytes), Spec("grammar", DType::kString, true),
               Spec("keywords", DType::kValue, true)},
              {Spec("text", DType::kString), Spec("confidence", DType::kValue),
               Spec("words", DType::kValue), Spec("language", DType::kString),
               Spec("duration_s", DType::kValue)}};
    case BackendKind::kTorchScript:
    case BackendKind::kIdentity:
      break;
  }
  return {};
}

}  // namespace botmodels
