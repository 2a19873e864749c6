#pragma once

#include <torch/torch.h>

#include <array>
#include <string>

#include "common/status.h"
#include "models/codecs/image_decoder.h"

namespace botmodels {

// What transformers' image processors (BlipImageProcessor,
// CLIPImageProcessor, ViTImageProcessor) do to an image before a vision
// encoder reads it, as the model's preprocessor_config.json says: convert
// to RGB (alpha dropped), resize (to {height, width}, or the shortest edge
// to a length keeping the aspect), centre-crop, rescale (1/255) and
// normalize by mean and std. Resizing is PIL's, to the byte (PilResize,
// any of its filters), as transformers resizes through PIL. Thread-safe.
class ImagePreprocessor {
 public:
  // model_load_failed naming the file when it cannot be read or asks for
  // what is not supported.
  static Result<ImagePreprocessor> Load(const std::string& path);

  // The pixels of `pix` (as ImageDecoder returns it): float32 [1, 3, H, W] on the CPU.
  torch::Tensor Process(Pix* pix) const;

 private:
  ImagePreprocessor() = default;

  bool resize_ = true;
  int height_ = 0, width_ = 0;  // the size to resize to, when not by the shortest edge
  int shortest_edge_ = 0;       // > 0: resize the shortest edge to this, keeping the aspect
  int resample_ = 3;            // PIL's filter: 3 bicubic (pil_resize.h)
  bool crop_ = false;
  int crop_height_ = 0, crop_width_ = 0;
  bool rescale_ = true;
  double rescale_factor_ = 1.0 / 255;
  bool normalize_ = true;
  std::array<double, 3> mean_{0.5, 0.5, 0.5}, std_{0.5, 0.5, 0.5};
};

}  // namespace botmodels
