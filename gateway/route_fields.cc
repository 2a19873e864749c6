#include "gateway/route_fields.h"

#include "models/diffusion/diffusion_spec.h"
#include "models/pipelines/caption_spec.h"
#include "models/speech/tts_spec.h"
#include "models/vision/ocr_spec.h"

namespace botmodels {
namespace {

using K = FieldKind;

// Absent numbers are left to the model's own defaults (model.toml); the
// defaults shown are the Python service's, which an exported SD 1.5 keeps.
constexpr FieldSpec kImage[] = {
    {"prompt", K::kPrompt, 0, 0, 0, "", diffusion_io::kPrompt},
    {"steps", K::kInteger, 1, 150, 30, "", "steps"},
    {"width", K::kInteger, 64, 2048, 512, "", "width"},
    {"height", K::kInteger, 64, 2048, 512, "", "height"},
    {"guidance_scale", K::kNumber, 1, 20, 7.5, "", "guidance_scale"},
    {"negative_prompt", K::kText, 0, 0, 0, "", diffusion_io::kNegativePrompt},
    {"seed", K::kSeed, 0, 0, 0, "", diffusion_io::kSeed},
};
constexpr FieldSpec kVideo[] = {
    {"prompt", K::kPrompt, 0, 0, 0, "", diffusion_io::kPrompt},
    {"num_frames", K::kInteger, 8, 128, 24, "", "num_frames"},
    {"fps", K::kInteger, 1, 60, 8, "", "fps"},
    {"steps", K::kInteger, 10, 100, 50, "", "steps"},
    {"seed", K::kSeed, 0, 0, 0, "", diffusion_io::kSeed},
};
// voice and language are read by the route: only one of them is sent.
constexpr FieldSpec kSpeech[] = {
    {"prompt", K::kPrompt, 0, 0, 0, "", tts_io::kText},
    {"voice", K::kText, 0, 0, 0, "default", ""},
    {"language", K::kText, 0, 0, 0, "en", ""},
    {"stream", K::kFlag, 0, 0, 0, "", ""},
};
constexpr FieldSpec kDetect[] = {
    {"data", K::kRecords, 0, 0, 0, "", ""},
    {"value_field", K::kText, 0, 0, 0, "value", ""},
};

constexpr FieldSpec kDescribeForm[] = {{"prompt", K::kText, 0, 0, 0, "", caption_io::kPrompt}};
constexpr FieldSpec kVqaForm[] = {
    {"question", K::kText, 0, 0, 0, "", caption_io::kQuestion, /*required=*/true}};
constexpr FieldSpec kVideoForm[] = {{"num_frames", K::kInteger, 1, 128, 8, "", "num_frames"}};
constexpr FieldSpec kOcrForm[] = {{"language", K::kText, 0, 0, 0, "eng", ocr_io::kLanguage}};

}  // namespace

std::span<const FieldSpec> FormFields(RouteAction action) {
  switch (action) {
    case RouteAction::kDescribe:
      return kDescribeForm;
    case RouteAction::kVqa:
      return kVqaForm;
    case RouteAction::kDescribeVideo:
      return kVideoForm;
    case RouteAction::kOcr:
      return kOcrForm;
    default:
      return {};
  }
}

std::span<const FieldSpec> JsonFields(RouteAction action) {
  switch (action) {
    case RouteAction::kImageGenerate:
      return kImage;
    case RouteAction::kVideoGenerate:
      return kVideo;
    case RouteAction::kSpeechGenerate:
      return kSpeech;
    case RouteAction::kDetect:
      return kDetect;
    default:
      return {};
  }
}

}  // namespace botmodels
