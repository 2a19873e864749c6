// ImagePreprocessor against PIL's resizing (tests/fixtures/image_resize.json,
// from tools/reference/image_resize.py) and transformers' processor configs.
#include "models/pipelines/image_preprocessor.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/testutil.h"

namespace botmodels {
namespace {

using nlohmann::json;
using testing::TempDir;
using testing::WriteFile;

// The reference script's test image: (7x + 3y, 5xy, x² + 11y) mod 256.
PixPtr TestImage(int width, int height) {
  PixPtr pix(pixCreate(width, height, 32));
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      pixSetRGBPixel(pix.get(), x, y, (7 * x + 3 * y) % 256, (5 * x * y) % 256,
                     (x * x + 11 * y) % 256);
    }
  }
  return pix;
}

ImagePreprocessor Load(const TempDir& dir, const json& config) {
  WriteFile(dir / "preprocessor_config.json", config.dump());
  auto p = ImagePreprocessor::Load(dir / "preprocessor_config.json");
  if (!p.ok()) throw std::runtime_error(p.status().message());
  return std::move(*p);
}

TEST(ImagePreprocessor, ResizesAsPilDoesToTheByteWithEveryFilter) {
  const json reference =
      json::parse(testing::ReadFile(BOTMODELS_SOURCE_DIR "/tests/fixtures/image_resize.json"));
  const PixPtr image = TestImage(reference["width"], reference["height"]);
  TempDir dir;
  for (const json& c : reference["cases"]) {
    const int w = c["width"], h = c["height"], resample = c["resample"];
    const auto p = Load(dir, {{"size", {{"height", h}, {"width", w}}},
                              {"resample", resample},
                              {"do_rescale", false},
                              {"do_normalize", false}});
    const torch::Tensor pixels = p.Process(image.get());
    ASSERT_EQ(pixels.sizes(), torch::IntArrayRef({1, 3, h, w}));
    double worst = 0;
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        for (int ch = 0; ch < 3; ++ch) {
          const double want = c["pixels"][y * w + x][ch];
          worst = std::max(worst, std::abs(pixels[0][ch][y][x].item<double>() - want));
        }
      }
    }
    EXPECT_EQ(worst, 0.0) << "resample " << resample << " to " << w << "x" << h;
  }
}

TEST(ImagePreprocessor, RescalesAndNormalizesEachChannel) {
  TempDir dir;
  const auto p = Load(dir, {{"size", {{"height", 30}, {"width", 40}}},
                            {"rescale_factor", 1.0 / 255},
                            {"image_mean", {0.5, 0.4, 0.3}},
                            {"image_std", {0.2, 0.25, 0.5}}});
  const PixPtr image = TestImage(40, 30);
  const torch::Tensor pixels = p.Process(image.get());
  const int x = 13, y = 7;
  const double rgb[3] = {(7 * x + 3 * y) % 256, (5 * x * y) % 256, (x * x + 11 * y) % 256};
  const double mean[3] = {0.5, 0.4, 0.3}, std[3] = {0.2, 0.25, 0.5};
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(pixels[0][c][y][x].item<double>(), (rgb[c] / 255 - mean[c]) / std[c], 1e-5);
  }
}

TEST(ImagePreprocessor, ShortestEdgeKeepsTheAspectAndTheCropCentres) {
  TempDir dir;
  const auto p = Load(dir, {{"size", {{"shortest_edge", 20}}},
                            {"do_center_crop", true},
                            {"crop_size", {{"height", 20}, {"width", 20}}},
                            {"do_rescale", false},
                            {"do_normalize", false}});
  const PixPtr wide = TestImage(40, 30);  // 40×30 -> 26×20 -> the middle 20×20
  EXPECT_EQ(p.Process(wide.get()).sizes(), torch::IntArrayRef({1, 3, 20, 20}));
  const auto no_resize = Load(dir, {{"do_resize", false},
                                    {"do_center_crop", true},
                                    {"crop_size", {{"height", 10}, {"width", 10}}},
                                    {"do_rescale", false},
                                    {"do_normalize", false}});
  const torch::Tensor cropped = no_resize.Process(wide.get());
  const int x = 15, y = 10;  // (40 - 10) / 2 = 15, (30 - 10) / 2 = 10
  EXPECT_EQ(cropped[0][0][0][0].item<double>(), (7 * x + 3 * y) % 256);
  // Smaller than the crop: zero padding around, as transformers pads.
  const PixPtr tiny = TestImage(4, 4);
  const torch::Tensor padded = no_resize.Process(tiny.get());
  EXPECT_EQ(padded.sizes(), torch::IntArrayRef({1, 3, 10, 10}));
  EXPECT_EQ(padded[0][0][0][0].item<double>(), 0.0);
  EXPECT_EQ(padded[0][0][3][3].item<double>(), 0.0);  // (0, 0) of the image sits at (3, 3)
  EXPECT_EQ(padded[0][2][4][4].item<double>(), (1 + 11) % 256);
}

TEST(ImagePreprocessor, ABadConfigFailsTheLoadNamingTheFile) {
  TempDir dir;
  for (const std::string& text :
       {std::string("not json"), std::string(R"({"size": {"height": 0, "width": 4}})"),
        std::string(R"({"size": {"height": 4, "width": 4}, "resample": 6})"),
        std::string(R"({"size": 4, "image_std": [1, 0, 1]})")}) {
    WriteFile(dir / "preprocessor_config.json", text);
    auto p = ImagePreprocessor::Load(dir / "preprocessor_config.json");
    EXPECT_EQ(p.status().code(), ErrorCode::kModelLoadFailed) << text;
    EXPECT_NE(p.status().message().find("preprocessor_config.json"), std::string::npos) << text;
  }
  auto missing = ImagePreprocessor::Load(dir / "nothing.json");
  EXPECT_NE(missing.status().message().find("nothing.json"), std::string::npos);
}

}  // namespace
}  // namespace botmodels
