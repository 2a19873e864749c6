#include "models/pipelines/image_preprocessor.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "models/pipelines/pil_resize.h"

namespace botmodels {
namespace {

using nlohmann::json;

constexpr int kMaxSide = 8192;  // px: past any vision encoder's input

Status Bad(const std::string& path, const std::string& what) {
  return Status(ErrorCode::kModelLoadFailed, "image preprocessor " + path + ": " + what);
}

// A side length from config[key][field] (or config[key] itself when a number).
bool ReadSide(const json& value, const char* field, int* out) {
  const json* v = value.is_object() ? (value.contains(field) ? &value[field] : nullptr) : &value;
  if (!v || !v->is_number_integer()) return false;
  const int side = v->get<int>();
  if (side < 1 || side > kMaxSide) return false;
  *out = side;
  return true;
}

}  // namespace

Result<ImagePreprocessor> ImagePreprocessor::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status(ErrorCode::kModelLoadFailed, "cannot read " + path);
  const json config = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!config.is_object()) return Bad(path, "not a JSON object");
  ImagePreprocessor p;
  const auto flag = [&](const char* key, bool fallback) {
    return config.contains(key) && config[key].is_boolean() ? config[key].get<bool>() : fallback;
  };
  p.resize_ = flag("do_resize", true);
  p.crop_ = flag("do_center_crop", false);
  p.rescale_ = flag("do_rescale", true);
  p.normalize_ = flag("do_normalize", true);
  if (p.resize_) {
    const json size = config.value("size", json());
    if (size.is_object() && size.contains("shortest_edge")) {
      if (!ReadSide(size, "shortest_edge", &p.shortest_edge_)) return Bad(path, "bad size");
    } else if (!ReadSide(size, "height", &p.height_) || !ReadSide(size, "width", &p.width_)) {
      return Bad(path, "size must be {height, width}, {shortest_edge} or a number");
    }
  }
  if (p.crop_ && (!ReadSide(config.value("crop_size", json()), "height", &p.crop_height_) ||
                  !ReadSide(config.value("crop_size", json()), "width", &p.crop_width_))) {
    return Bad(path, "crop_size must be {height, width} or a number");
  }
  p.resample_ = config.value("resample", 3);
  if (!IsPilFilter(p.resample_)) {
    return Bad(path,
               "resample " + std::to_string(p.resample_) + " is not one of PIL's filters (0-5)");
  }
  if (config.contains("rescale_factor")) {
    if (!config["rescale_factor"].is_number()) return Bad(path, "rescale_factor is not a number");
    p.rescale_factor_ = config["rescale_factor"].get<double>();
  }
  for (auto [key, values] : {std::pair{"image_mean", &p.mean_}, {"image_std", &p.std_}}) {
    if (!config.contains(key)) continue;
    const json& v = config[key];
    if (!v.is_array() || v.size() != 3 || !v[0].is_number() || !v[1].is_number() ||
        !v[2].is_number()) {
      return Bad(path, std::string(key) + " must be 3 numbers");
    }
    for (size_t i = 0; i < 3; ++i) (*values)[i] = v[i].get<double>();
  }
  if (std::any_of(p.std_.begin(), p.std_.end(), [](double s) { return s <= 0; })) {
    return Bad(path, "image_std must be positive");
  }
  return p;
}

torch::Tensor ImagePreprocessor::Process(Pix* pix) const {
  PixPtr rgb(pixConvertTo32(pix));
  int w = static_cast<int>(pixGetWidth(rgb.get()));
  int h = static_cast<int>(pixGetHeight(rgb.get()));
  std::vector<uint8_t> pixels(static_cast<size_t>(w) * h * 3);
  const l_uint32* data = pixGetData(rgb.get());
  const int wpl = pixGetWpl(rgb.get());
  for (int y = 0; y < h; ++y) {
    const l_uint32* row = data + static_cast<size_t>(y) * wpl;
    uint8_t* out = &pixels[static_cast<size_t>(y) * w * 3];
    for (int x = 0; x < w; ++x) {
      *out++ = static_cast<uint8_t>((row[x] >> L_RED_SHIFT) & 0xff);
      *out++ = static_cast<uint8_t>((row[x] >> L_GREEN_SHIFT) & 0xff);
      *out++ = static_cast<uint8_t>((row[x] >> L_BLUE_SHIFT) & 0xff);
    }
  }
  if (resize_) {
    int th = height_, tw = width_;
    if (shortest_edge_ > 0) {  // transformers' get_resize_output_image_size
      const int longer =
          static_cast<int>(static_cast<double>(shortest_edge_) * std::max(h, w) / std::min(h, w));
      th = h >= w ? longer : shortest_edge_;
      tw = h >= w ? shortest_edge_ : longer;
    }
    if (th != h || tw != w) {
      pixels = PilResize(pixels, w, h, tw, th, resample_);
      w = tw;
      h = th;
    }
  }
  torch::Tensor x = torch::from_blob(pixels.data(), {1, h, w, 3}, torch::kUInt8)
                        .permute({0, 3, 1, 2})
                        .to(torch::kFloat);
  if (crop_) {  // transformers' center_crop: zero padding where the image is smaller
    const int64_t ih = x.size(2), iw = x.size(3);
    const int64_t top = (ih - crop_height_) / 2, left = (iw - crop_width_) / 2;
    torch::Tensor cropped = torch::zeros({1, 3, crop_height_, crop_width_});
    const int64_t y0 = std::max<int64_t>(top, 0), x0 = std::max<int64_t>(left, 0);
    const int64_t y1 = std::min<int64_t>(top + crop_height_, ih);
    const int64_t x1 = std::min<int64_t>(left + crop_width_, iw);
    cropped.slice(2, y0 - top, y1 - top).slice(3, x0 - left, x1 - left) =
        x.slice(2, y0, y1).slice(3, x0, x1);
    x = cropped;
  }
  if (rescale_) x = x * rescale_factor_;
  if (normalize_) {
    const auto column = [](const std::array<double, 3>& v) {
      return torch::tensor({v[0], v[1], v[2]}, torch::kFloat).view({1, 3, 1, 1});
    };
    x = (x - column(mean_)) / column(std_);
  }
  return x.contiguous();
}

}  // namespace botmodels
