#pragma once

#include <torch/torch.h>

#include <array>
#include <string>

#include "common/status.h"
#include "models/vision/image_decoder.h"

namespace botmodels {

// What transformers' image processors (BlipImageProcessor,
// CLIPImageProcessor, ViTImageProcessor) do to an image before a vision
// encoder reads it, as the model's preprocessor_config.json says: convert
// to RGB (alpha dropped), resize (to {height, width}, or the shortest edge
// to a length keeping the aspect), centre-crop, rescale (1/255) and
// normalize by mean and std. Resizing is PIL's: nearest, bilinear or
// bicubic (resample 0, 2, 3) with antialiasing when shrinking, rows then
// columns, each pass rounded to 8 bits as PIL's are (libtorch's
// antialiased kernels in float: equal to PIL's within one level of 255,
// tests/unit/image_preprocessor_test.cc). Thread-safe.
class ImagePreprocessor {
 public:
  // model_load_failed naming the file when it cannot be read or asks for
  // what is not supported.
  static Result<ImagePreprocessor> Load(const std::string& path);

  // The pixels of `pix` (as ImageDecoder returns it): float32 [1, 3, H, W] on the CPU.
  torch::Tensor Process(Pix* pix) const;

 private:
  ImagePreprocessor() = default;
  // `x` (float [1, 3, h, w], 0-255) resized as PIL resizes, rounded to levels.
  torch::Tensor Resize(torch::Tensor x, int64_t height, int64_t width) const;

  bool resize_ = true;
  int height_ = 0, width_ = 0;  // the size to resize to, when not by the shortest edge
  int shortest_edge_ = 0;       // > 0: resize the shortest edge to this, keeping the aspect
  int resample_ = 3;            // PIL's: 0 nearest, 2 bilinear, 3 bicubic
  bool crop_ = false;
  int crop_height_ = 0, crop_width_ = 0;
  bool rescale_ = true;
  double rescale_factor_ = 1.0 / 255;
  bool normalize_ = true;
  std::array<double, 3> mean_{0.5, 0.5, 0.5}, std_{0.5, 0.5, 0.5};
};

}  // namespace botmodels
