#include "models/codecs/resampler.h"

#include <samplerate.h>

#include <cmath>
#include <string>

namespace botmodels {
namespace {

constexpr int kMaxRate = 384000;  // Hz, as the decoder's bound
constexpr size_t kSlack = 64;     // samples of room past the ratio's share

}  // namespace

Result<Resampler> Resampler::Create(int from_rate, int to_rate) {
  if (from_rate < 1 || from_rate > kMaxRate || to_rate < 1 || to_rate > kMaxRate) {
    return InvalidRequest("resampling: rates of 1-384000 Hz, not " + std::to_string(from_rate) +
                          " to " + std::to_string(to_rate));
  }
  int error = 0;
  SRC_STATE* state = src_new(SRC_SINC_FASTEST, 1, &error);
  if (!state)
    return Status(ErrorCode::kInternal, std::string("resampling: ") + src_strerror(error));
  return Resampler(state, static_cast<double>(to_rate) / from_rate);
}

Resampler::Resampler(Resampler&& other) noexcept : state_(other.state_), ratio_(other.ratio_) {
  other.state_ = nullptr;
}

Resampler::~Resampler() {
  if (state_) src_delete(state_);
}

std::vector<int16_t> Resampler::Convert(std::span<const int16_t> samples, bool last) {
  std::vector<float> in(samples.size());
  src_short_to_float_array(samples.data(), in.data(), static_cast<int>(samples.size()));
  std::vector<float> out;
  size_t used = 0;
  while (true) {
    std::vector<float> room(static_cast<size_t>(std::ceil((in.size() - used) * ratio_)) + kSlack);
    SRC_DATA data{};
    data.data_in = in.data() + used;
    data.input_frames = static_cast<long>(in.size() - used);
    data.data_out = room.data();
    data.output_frames = static_cast<long>(room.size());
    data.src_ratio = ratio_;
    data.end_of_input = last ? 1 : 0;
    if (src_process(state_, &data) != 0) break;
    used += static_cast<size_t>(data.input_frames_used);
    out.insert(out.end(), room.begin(), room.begin() + data.output_frames_gen);
    // Done once the input is taken and, at the end, nothing more comes out.
    if (used >= in.size() && (!last || data.output_frames_gen == 0)) break;
    if (data.input_frames_used == 0 && data.output_frames_gen == 0) break;
  }
  std::vector<int16_t> converted(out.size());
  src_float_to_short_array(out.data(), converted.data(), static_cast<int>(out.size()));
  return converted;
}

}  // namespace botmodels
