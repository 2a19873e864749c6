#include "gateway/routes/route_replies.h"
#include "gateway/routes/route_table.h"
#include "models/diffusion/diffusion_spec.h"

namespace botmodels {
namespace {

using K = FieldKind;

// Absent numbers are left to the model's own defaults (model.toml); the
// defaults shown are the Python service's, which an exported SD 1.5 keeps.
constexpr FieldSpec kImageFields[] = {
    {"prompt", K::kPrompt, 0, 0, 0, "", diffusion_io::kPrompt},
    {"steps", K::kInteger, 1, 150, 30, "", "steps"},
    {"width", K::kInteger, 64, 2048, 512, "", "width"},
    {"height", K::kInteger, 64, 2048, 512, "", "height"},
    {"guidance_scale", K::kNumber, 1, 20, 7.5, "", "guidance_scale"},
    {"negative_prompt", K::kText, 0, 0, 0, "", diffusion_io::kNegativePrompt},
    {"seed", K::kSeed, 0, 0, 0, "", diffusion_io::kSeed},
};
constexpr FieldSpec kVideoFields[] = {
    {"prompt", K::kPrompt, 0, 0, 0, "", diffusion_io::kPrompt},
    {"num_frames", K::kInteger, 8, 128, 24, "", "num_frames"},
    {"fps", K::kInteger, 1, 60, 8, "", "fps"},
    {"steps", K::kInteger, 10, 100, 50, "", "steps"},
    {"seed", K::kSeed, 0, 0, 0, "", diffusion_io::kSeed},
};

constexpr PostRoute kRoutes[] = {
    {.path = "/api/image/generate",
     .summary = "Generate an image (PNG) from a prompt",
     .handler = RouteHandler::kGenerate,
     .model = ModelRoute::kImageGenerate,
     .fields = kImageFields,
     .product = diffusion_io::kImage,
     .product_kind = OutputKind::kImage,
     .failure = route_replies::GenerationFailure},
    {.path = "/api/video/generate",
     .summary = "Generate a video (MP4) from a prompt",
     .handler = RouteHandler::kGenerate,
     .model = ModelRoute::kVideoGenerate,
     .fields = kVideoFields,
     .product = diffusion_io::kVideo,
     .product_kind = OutputKind::kVideo,
     .failure = route_replies::GenerationFailure},
};

}  // namespace

std::span<const PostRoute> GenerateRoutes() { return kRoutes; }

}  // namespace botmodels
